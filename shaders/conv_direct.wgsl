// conv_direct: convolution forward computed directly, for layers with few taps per output
// (c_in * kh * kw small, e.g. D's first conv 1->64 with 16 taps), where im2col followed by a
// product with K = taps is bound by writing and permuting its output. Each invocation computes
// 4 neighbouring output pixels of one row for 16 output channels, held as four mat4x4s (column j
// = channels 4j..4j+3): per tap, 4 input loads and 4 vec4 weight loads feed 64 multiply-adds.
// Entry point conv_direct: bindings 1 x [N, C, H, W], 2 wt [taps, C_out] (the weight transposed;
// C_out a multiple of 16), 3 bias [C_out] (read only when has_bias), 4 y [N, C_out, OH, OW]
// (y = acc * y + conv(x)).

// The first 16 words are shaders/conv.wgsl's geometry (one Rust struct fills both).
struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    ph: u32,
    pw: u32,
    acc: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    c_out: u32,
    has_bias: u32,
    _pad3: u32,
    _pad4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn input_at(row: u32, ix: i32) -> f32 {
    if (ix < 0 || ix >= i32(p.w)) { return 0.0; }
    return x[row + u32(ix)];
}

fn store_pixel(a: mat4x4<f32>, n: u32, co0: u32, oy: u32, ox: u32) {
    if (ox >= p.ow) { return; }
    for (var j = 0u; j < 4u; j++) {
        let col = a[j];
        for (var l = 0u; l < 4u; l++) {
            let co = co0 + 4u * j + l;
            var v = col[l];
            if (p.has_bias != 0u) { v += bias[co]; }
            let at = ((n * p.c_out + co) * p.oh + oy) * p.ow + ox;
            if (p.acc != 0.0) { y[at] = p.acc * y[at] + v; } else { y[at] = v; }
        }
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn conv_direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = gid.x + gid.y * groups.x * WG_X;
    let groups_x = (p.ow + 3u) / 4u;
    let co_groups = p.c_out / 16u;
    if (e >= p.n * p.oh * groups_x * co_groups) { return; }
    // Neighbouring invocations take neighbouring pixel groups of one row.
    let gx = e % groups_x;
    let oy = (e / groups_x) % p.oh;
    let n = (e / (groups_x * p.oh)) % p.n;
    let cg = e / (groups_x * p.oh * p.n);
    let ox0 = gx * 4u;
    var a0 = mat4x4<f32>();
    var a1 = mat4x4<f32>();
    var a2 = mat4x4<f32>();
    var a3 = mat4x4<f32>();
    let row_vec4s = p.c_out / 4u;
    let step = i32(p.sw);
    for (var c = 0u; c < p.c; c++) {
        for (var ky = 0u; ky < p.kh; ky++) {
            let iy = i32(oy * p.sh + ky) - i32(p.ph);
            if (iy < 0 || iy >= i32(p.h)) { continue; }
            let row = ((n * p.c + c) * p.h + u32(iy)) * p.w;
            for (var kx = 0u; kx < p.kw; kx++) {
                let t = (c * p.kh + ky) * p.kw + kx;
                let wb = t * row_vec4s + cg * 4u;
                let wm = mat4x4<f32>(wt[wb], wt[wb + 1u], wt[wb + 2u], wt[wb + 3u]);
                let ix = i32(ox0 * p.sw + kx) - i32(p.pw);
                a0 += wm * input_at(row, ix);
                a1 += wm * input_at(row, ix + step);
                a2 += wm * input_at(row, ix + 2 * step);
                a3 += wm * input_at(row, ix + 3 * step);
            }
        }
    }
    let co0 = cg * 16u;
    store_pixel(a0, n, co0, oy, ox0);
    store_pixel(a1, n, co0, oy, ox0 + 1u);
    store_pixel(a2, n, co0, oy, ox0 + 2u);
    store_pixel(a3, n, co0, oy, ox0 + 3u);
}
