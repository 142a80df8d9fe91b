// elementwise: activations, their derivatives, and the small arithmetic the tape needs.
// Entry points:
//   unary           out = f(x)                         bindings 1 x, 3 out
//   unary_backward  dx = acc*dx + dy * f'(saved)       bindings 1 saved, 2 dy, 3 dx
//                   saved is the input x for SCALE/RELU/LEAKY, the output y for SIGMOID/TANH
//   binary          out = alpha*a + beta*b  (op ADD)   bindings 1 a, 2 b, 3 out
//                   out = a * b             (op MUL)
//   fill            out = alpha                         binding 3 out
//   axpy            out = acc*out + alpha*a             bindings 1 a, 3 out (gradient accumulation)
//   fill4, unary4, unary_backward4, axpy4: the same four floats per invocation through vec4
//                   views (bindings 4 a4, 5 b4, 6 out4: the scalar kernels' order), for
//                   lengths that are multiples of 4 (llvmpipe
//                   moves vec4s several times faster than scalars).
// One invocation per element; 2-D grid so huge tensors stay under the per-dimension limit.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG_X;
}

fn sigmoid(x: f32) -> f32 {
    // Never exponentiates a large positive number.
    if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
    let e = exp(x);
    return e / (1.0 + e);
}

fn activate(x: f32) -> f32 {
    switch p.op {
        case SCALE: { return p.alpha * x + p.beta; }
        case RELU: { return max(x, 0.0); }
        case LEAKY: { return select(p.slope * x, x, x >= 0.0); }
        case SIGMOID: { return sigmoid(x); }
        case TANH, default: { return tanh(clamp(x, -15.0, 15.0)); }
    }
}

fn derivative(saved: f32) -> f32 {
    switch p.op {
        case SCALE: { return p.alpha; }
        case RELU: { return select(0.0, 1.0, saved > 0.0); }
        case LEAKY: { return select(p.slope, 1.0, saved >= 0.0); }
        case SIGMOID: { return saved * (1.0 - saved); }
        case TANH, default: { return 1.0 - saved * saved; }
    }
}

fn accumulate(i: u32, v: f32) {
    // acc == 0 must ignore old contents, which may be garbage (even NaN) in a recycled buffer.
    if (p.acc != 0.0) { out[i] = p.acc * out[i] + v; } else { out[i] = v; }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n) { return; }
    out[i] = activate(a[i]);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn unary_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n) { return; }
    accumulate(i, b[i] * derivative(a[i]));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n) { return; }
    if (p.op == MUL) { out[i] = a[i] * b[i]; } else { out[i] = p.alpha * a[i] + p.beta * b[i]; }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n) { return; }
    out[i] = p.alpha;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n) { return; }
    accumulate(i, p.alpha * a[i]);
}

@group(0) @binding(6) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn fill4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n / 4u) { return; }
    out4[i] = vec4<f32>(p.alpha);
}

@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f32>>;

fn activate4(x: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(activate(x.x), activate(x.y), activate(x.z), activate(x.w));
}

fn derivative4(s: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(derivative(s.x), derivative(s.y), derivative(s.z), derivative(s.w));
}

fn accumulate4(i: u32, v: vec4<f32>) {
    if (p.acc != 0.0) { out4[i] = p.acc * out4[i] + v; } else { out4[i] = v; }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn unary4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n / 4u) { return; }
    out4[i] = activate4(a4[i]);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn unary_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n / 4u) { return; }
    accumulate4(i, b4[i] * derivative4(a4[i]));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn axpy4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.n / 4u) { return; }
    accumulate4(i, p.alpha * a4[i]);
}
