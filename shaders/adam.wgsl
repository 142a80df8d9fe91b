// adam: one bias-corrected Adam step over a whole parameter arena (PyTorch's formulation):
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps),   bc1 = 1 - b1^t, bc2 = 1 - b2^t (from the host)
// Entry points: adam (one invocation per parameter; bindings 1 params, 2 grads, 3 m, 4 v) and
// adam4 (the same four arrays as vec4s, one invocation per four parameters; bindings 5..8), for
// lengths that are multiples of 4 such as whole arenas. The arena's padding has zero gradient
// and stays zero.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WG_X;
    if (i >= p.n) { return; }
    let g = grad[i];
    let m1 = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let v1 = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = m1;
    v[i] = v1;
    param[i] -= p.lr * (m1 / p.bc1) / (sqrt(v1 / p.bc2) + p.eps);
}

@group(0) @binding(5) var<storage, read_write> param4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> grad4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> m4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> v4: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn adam4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WG_X;
    if (i >= p.n / 4u) { return; }
    let g = grad4[i];
    let m1 = p.beta1 * m4[i] + (1.0 - p.beta1) * g;
    let v1 = p.beta2 * v4[i] + (1.0 - p.beta2) * g * g;
    m4[i] = m1;
    v4[i] = v1;
    param4[i] -= p.lr * (m1 / p.bc1) / (sqrt(v1 / p.bc2) + p.eps);
}
