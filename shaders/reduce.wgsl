// reduce: sums over the outer and inner axes of x viewed as [outer, mid, inner], and the
// broadcast that is its backward. [M,N] column sums (bias gradients) are outer=M, mid=N, inner=1;
// row sums are outer=1, mid=M, inner=N; per-channel sums of NCHW maps are [N, C, H*W].
// Entry points:
//   reduce_sum  out[m] = acc*out[m] + alpha * sum_{o,i} x[o, m, i]   bindings 1 x, 2 out
//   broadcast   out[o, m, i] = acc*out + alpha * x[m]                bindings 1 x, 2 out
// reduce_sum: one invocation per output, compensated (Kahan) summation so long sums keep f32
// accuracy. broadcast: one invocation per output element.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn accumulate(i: u32, v: f32) {
    if (p.acc != 0.0) { out[i] = p.acc * out[i] + v; } else { out[i] = v; }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn reduce_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= p.mid) { return; }
    var sum = 0.0;
    var carry = 0.0;
    for (var o = 0u; o < p.outer; o++) {
        let base = (o * p.mid + m) * p.inner;
        for (var i = 0u; i < p.inner; i++) {
            let y = x[base + i] - carry;
            let t = sum + y;
            carry = (t - sum) - y;
            sum = t;
        }
    }
    accumulate(m, p.alpha * sum);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn broadcast(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = gid.x + gid.y * groups.x * WG_X;
    if (j >= p.outer * p.mid * p.inner) { return; }
    let m = (j / p.inner) % p.mid;
    accumulate(j, p.alpha * x[m]);
}
