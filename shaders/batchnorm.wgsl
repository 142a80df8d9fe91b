// batchnorm: per-channel normalisation of x viewed as [N, C, S] (S = H*W for maps, 1 for (N,C)).
// stats holds [mean(C), invstd(C)] for the normalisation in use; running holds [mean(C), var(C)].
// Entry points:
//   bn_stats          train mode, one invocation per channel: batch mean and biased variance
//                     (two passes over the channel), stats = (mean, 1/sqrt(var + eps)); when
//                     update != 0 also running = (1 - momentum) running + momentum (mean,
//                     unbiased var), as PyTorch does.       bindings 1 x, 4 stats, 5 running
//   bn_eval_stats     eval mode: stats from the running statistics.    bindings 4 stats, 5 running
//   bn_normalize      y = gamma (x - mean) invstd + beta, per element.
//                                                   bindings 1 x, 2 gamma, 3 beta, 4 stats, 6 y
//   bn_backward_sums  per channel: sums = (sum dy, sum dy*xhat); dbeta, dgamma = acc*old + sums.
//                                  bindings 1 x, 4 stats, 7 dy, 9 dgamma, 10 dbeta, 11 sums
//   bn_backward_dx    dx = acc_dx*dx + gamma invstd (dy - [train] (sum dy + xhat sum dy*xhat) / M)
//                                  bindings 1 x, 2 gamma, 4 stats, 7 dy, 8 dx, 11 sums

struct Params {
    n: u32,
    c: u32,
    s: u32,
    update: u32,
    eps: f32,
    momentum: f32,
    acc: f32,
    acc_dx: f32,
    train: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> running: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read> dy: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;
@group(0) @binding(9) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(10) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(11) var<storage, read_write> sums: array<f32>;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG_X;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_stats(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.c) { return; }
    let count = f32(p.n * p.s);
    var sum = 0.0;
    for (var i = 0u; i < p.n; i++) {
        let base = (i * p.c + c) * p.s;
        for (var j = 0u; j < p.s; j++) { sum += x[base + j]; }
    }
    let mean = sum / count;
    var sq = 0.0;
    for (var i = 0u; i < p.n; i++) {
        let base = (i * p.c + c) * p.s;
        for (var j = 0u; j < p.s; j++) { let d = x[base + j] - mean; sq += d * d; }
    }
    let var_biased = sq / count;
    stats[c] = mean;
    stats[p.c + c] = inverseSqrt(var_biased + p.eps);
    if (p.update != 0u) {
        let unbiased = sq / max(count - 1.0, 1.0);
        running[c] = (1.0 - p.momentum) * running[c] + p.momentum * mean;
        running[p.c + c] = (1.0 - p.momentum) * running[p.c + c] + p.momentum * unbiased;
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_eval_stats(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.c) { return; }
    stats[c] = running[c];
    stats[p.c + c] = inverseSqrt(running[p.c + c] + p.eps);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_normalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.s) { return; }
    let c = (e / p.s) % p.c;
    y[e] = gamma[c] * (x[e] - stats[c]) * stats[p.c + c] + beta[c];
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.c) { return; }
    let mean = stats[c];
    let invstd = stats[p.c + c];
    var sum_dy = 0.0;
    var sum_dy_xhat = 0.0;
    for (var i = 0u; i < p.n; i++) {
        let base = (i * p.c + c) * p.s;
        for (var j = 0u; j < p.s; j++) {
            let g = dy[base + j];
            sum_dy += g;
            sum_dy_xhat += g * (x[base + j] - mean) * invstd;
        }
    }
    sums[c] = sum_dy;
    sums[p.c + c] = sum_dy_xhat;
    if (p.acc != 0.0) {
        dbeta[c] = p.acc * dbeta[c] + sum_dy;
        dgamma[c] = p.acc * dgamma[c] + sum_dy_xhat;
    } else {
        dbeta[c] = sum_dy;
        dgamma[c] = sum_dy_xhat;
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_dx(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.s) { return; }
    let c = (e / p.s) % p.c;
    let invstd = stats[p.c + c];
    var g = dy[e];
    if (p.train != 0u) {
        // Batch statistics depend on every x of the channel: subtract their share.
        let count = f32(p.n * p.s);
        let xhat = (x[e] - stats[c]) * invstd;
        g -= (sums[c] + xhat * sums[p.c + c]) / count;
    }
    let v = gamma[c] * invstd * g;
    if (p.acc_dx != 0.0) { dx[e] = p.acc_dx * dx[e] + v; } else { dx[e] = v; }
}
