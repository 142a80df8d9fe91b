// losses: each forward gives the per-row (or per-element) loss and its gradient in one pass; the
// backward scales that saved gradient by the upstream gradient of each row.
// Entry points:
//   softmax_xent       logits [rows, cols], one class index per row in `labels` (as f32)
//                      loss = logsumexp(logits) - logits[label]; grad = softmax - onehot
//                      bindings 1 logits, 2 labels, 3 loss, 4 grad; one invocation per row
//   bce_logits         x, target in [0,1]; loss = max(x,0) - x*t + log(1 + exp(-|x|)),
//                      stable for any |x|; grad = sigmoid(x) - t. Elementwise (rows = count).
//   gauss_nll          mean mu, sample x, fixed std sigma (params):
//                      loss = ln(2 pi)/2 + ln sigma + (x - mu)^2 / (2 sigma^2); grad = (mu - x)/sigma^2
//                      bindings 1 mu, 2 x, 3 loss, 4 grad. Elementwise.
//   gauss_nll_learned  as gauss_nll with a per-element log-std s (binding 5):
//                      loss = ln(2 pi)/2 + s + (x - mu)^2 e^{-2s} / 2
//                      grad (d/dmu) = (mu - x) e^{-2s}, grad_logstd (binding 6) = 1 - (x - mu)^2 e^{-2s}
//   scale_rows         dx[r, c] = acc*dx + g[r, c] * up[r]    bindings 7 g, 8 up, 9 dx

const HALF_LN_2PI: f32 = 0.91893853320467274;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@group(0) @binding(5) var<storage, read> logstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_logstd: array<f32>;
@group(0) @binding(7) var<storage, read> saved_grad: array<f32>;
@group(0) @binding(8) var<storage, read> upstream: array<f32>;
@group(0) @binding(9) var<storage, read_write> dx: array<f32>;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG_X;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn softmax_xent(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = flat(gid, groups);
    if (r >= p.rows) { return; }
    let base = r * p.cols;
    var top = input[base];
    for (var c = 1u; c < p.cols; c++) { top = max(top, input[base + c]); }
    var sum = 0.0;
    for (var c = 0u; c < p.cols; c++) { sum += exp(input[base + c] - top); }
    let t = labels[r];
    let label = u32(max(t, 0.0));
    if (t < 0.0 || f32(label) != t || label >= p.cols) {
        // An invalid label poisons the loss so training stops instead of learning garbage.
        loss[r] = bitcast<f32>(0x7fc00000u);
        return;
    }
    let lse = top + log(sum);
    loss[r] = lse - input[base + label];
    for (var c = 0u; c < p.cols; c++) {
        grad[base + c] = exp(input[base + c] - lse) - select(0.0, 1.0, c == label);
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bce_logits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat(gid, groups);
    if (i >= p.rows) { return; }
    let x = input[i];
    let t = labels[i];
    let e = exp(-abs(x));
    loss[i] = max(x, 0.0) - x * t + log(1.0 + e);
    // sigmoid(x) from the same exp, stable on both sides.
    let s = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
    grad[i] = s - t;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn gauss_nll(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat(gid, groups);
    if (i >= p.rows) { return; }
    let d = labels[i] - input[i];
    let inv_var = 1.0 / (p.sigma * p.sigma);
    loss[i] = HALF_LN_2PI + log(p.sigma) + 0.5 * d * d * inv_var;
    grad[i] = -d * inv_var;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn gauss_nll_learned(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat(gid, groups);
    if (i >= p.rows) { return; }
    let d = labels[i] - input[i];
    let s = logstd[i];
    let inv_var = exp(-2.0 * s);
    loss[i] = HALF_LN_2PI + s + 0.5 * d * d * inv_var;
    grad[i] = -d * inv_var;
    grad_logstd[i] = 1.0 - d * d * inv_var;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn scale_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat(gid, groups);
    if (i >= p.rows * p.cols) { return; }
    let v = saved_grad[i] * upstream[i / p.cols];
    if (p.acc != 0.0) { dx[i] = p.acc * dx[i] + v; } else { dx[i] = v; }
}
