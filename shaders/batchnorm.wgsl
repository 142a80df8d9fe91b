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
// vec4 twins of the two per-element kernels, one invocation per 4 elements. On llvmpipe every
// storage access is a loop over the lanes, and the scalar kernels make 6 and 8 of them per
// element; these make as many per 4 elements.
//   bn_normalize4, bn_backward_dx4    S % 4 == 0: the 4 elements share a channel (scalar
//                                     per-channel loads).  bindings 2 gamma, 3 beta / 11 sums,
//                                     4 stats, 12 x4, 13 y4 / 14 dy4, 15 dx4
//   bn_normalize4_features, bn_backward_dx4_features   S == 1 and C % 4 == 0: the 4 elements
//                                     are 4 channels, whose parameters load as vec4s.
//                                     bindings 12 x4, 13 y4 / 14 dy4, 15 dx4, 16 gamma4,
//                                     17 beta4, 18 stats4, 19 sums4
//   bn_normalize4_straddle, bn_backward_dx4_straddle   S % 4 != 0, S >= 4 and N*C*S % 4 == 0
//                                     (D's 7x7 maps): the 4 elements span at most 2 channels,
//                                     whose parameters are loaded once each and selected per
//                                     element.   bindings as bn_normalize4 / bn_backward_dx4
//   bn_stats4, bn_backward_sums4      S % 4 == 0: one invocation per channel, reading vec4s.
//   bn_stats4_features, bn_backward_sums4_features   S == 1 and C % 4 == 0: one invocation
//                                     per 4 channels.   bindings as the scalar ones, with x4
//                                     (12) and dy4 (14) for x and dy

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
@group(0) @binding(12) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> y4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> dx4: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read> gamma4: array<vec4<f32>>;
@group(0) @binding(17) var<storage, read> beta4: array<vec4<f32>>;
@group(0) @binding(18) var<storage, read> stats4: array<vec4<f32>>;
@group(0) @binding(19) var<storage, read> sums4: array<vec4<f32>>;

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
    finish_stats(c, mean, sq, count);
}

// Channel c's statistics from its mean and sum of squared deviations over count values.
fn finish_stats(c: u32, mean: f32, sq: f32, count: f32) {
    stats[c] = mean;
    stats[p.c + c] = inverseSqrt(sq / count + p.eps);
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
    finish_sums(c, sum_dy, sum_dy_xhat);
}

fn finish_sums(c: u32, sum_dy: f32, sum_dy_xhat: f32) {
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

// gamma, mean and invstd for the 4 elements of a vec4, one lane per element: one channel's
// splatted, 4 channels' loaded as vec4s (features), or two channels' picked per element
// (straddle). beta and the backward sums come alongside in the same form.
struct Channel4 {
    gamma: vec4<f32>,
    mean: vec4<f32>,
    invstd: vec4<f32>,
}

fn one_channel(c: u32) -> Channel4 {
    return Channel4(vec4<f32>(gamma[c]), vec4<f32>(stats[c]), vec4<f32>(stats[p.c + c]));
}

fn four_channels(c4: u32) -> Channel4 {
    return Channel4(gamma4[c4], stats4[c4], stats4[p.c / 4u + c4]);
}

// y for the 4 elements of x4[e]: the formula of bn_normalize.
fn normalize4(e: u32, ch: Channel4, beta: vec4<f32>) {
    y4[e] = ch.gamma * ch.invstd * (x4[e] - ch.mean) + beta;
}

// dx for the 4 elements of dy4[e] over `count` values per channel, the formula of
// bn_backward_dx, written (or added to with acc_dx) at dx4[e].
fn backward_dx4(e: u32, ch: Channel4, sum_dy: vec4<f32>, sum_dy_xhat: vec4<f32>, count: f32) {
    var g = dy4[e];
    if (p.train != 0u) {
        let xhat = (x4[e] - ch.mean) * ch.invstd;
        g -= (sum_dy + xhat * sum_dy_xhat) / count;
    }
    let v = ch.gamma * ch.invstd * g;
    if (p.acc_dx != 0.0) { dx4[e] = p.acc_dx * dx4[e] + v; } else { dx4[e] = v; }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_normalize4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.s / 4u) { return; }
    let c = (e * 4u / p.s) % p.c;
    normalize4(e, one_channel(c), vec4<f32>(beta[c]));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_normalize4_features(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c / 4u) { return; }
    let c4 = e % (p.c / 4u);
    normalize4(e, four_channels(c4), beta4[c4]);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_dx4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.s / 4u) { return; }
    let c = (e * 4u / p.s) % p.c;
    backward_dx4(e, one_channel(c), vec4<f32>(sums[c]), vec4<f32>(sums[p.c + c]), f32(p.n * p.s));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_dx4_features(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c / 4u) { return; }
    let c4 = e % (p.c / 4u);
    backward_dx4(e, four_channels(c4), sums4[c4], sums4[p.c / 4u + c4], f32(p.n));
}

fn hsum(v: vec4<f32>) -> f32 {
    return v.x + v.y + v.z + v.w;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_stats4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.c) { return; }
    let count = f32(p.n * p.s);
    let s4 = p.s / 4u;
    var sum = vec4<f32>();
    for (var i = 0u; i < p.n; i++) {
        let base = (i * p.c + c) * s4;
        for (var j = 0u; j < s4; j++) { sum += x4[base + j]; }
    }
    let mean = hsum(sum) / count;
    var sq = vec4<f32>();
    for (var i = 0u; i < p.n; i++) {
        let base = (i * p.c + c) * s4;
        for (var j = 0u; j < s4; j++) { let d = x4[base + j] - mean; sq += d * d; }
    }
    finish_stats(c, mean, hsum(sq), count);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_stats4_features(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c4 = p.c / 4u;
    if (gid.x >= c4) { return; }
    let count = f32(p.n);
    var sum = vec4<f32>();
    for (var i = 0u; i < p.n; i++) { sum += x4[i * c4 + gid.x]; }
    let mean = sum / count;
    var sq = vec4<f32>();
    for (var i = 0u; i < p.n; i++) { let d = x4[i * c4 + gid.x] - mean; sq += d * d; }
    for (var k = 0u; k < 4u; k++) { finish_stats(gid.x * 4u + k, mean[k], sq[k], count); }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_sums4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.c) { return; }
    let mean = stats[c];
    let invstd = stats[p.c + c];
    let s4 = p.s / 4u;
    var sum_dy = vec4<f32>();
    var sum_dy_xhat = vec4<f32>();
    for (var i = 0u; i < p.n; i++) {
        let base = (i * p.c + c) * s4;
        for (var j = 0u; j < s4; j++) {
            let g = dy4[base + j];
            sum_dy += g;
            sum_dy_xhat += g * (x4[base + j] - mean);
        }
    }
    finish_sums(c, hsum(sum_dy), hsum(sum_dy_xhat) * invstd);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_sums4_features(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c4 = p.c / 4u;
    if (gid.x >= c4) { return; }
    let c = gid.x * 4u;
    let mean = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
    let invstd = vec4<f32>(stats[p.c + c], stats[p.c + c + 1u], stats[p.c + c + 2u], stats[p.c + c + 3u]);
    var sum_dy = vec4<f32>();
    var sum_dy_xhat = vec4<f32>();
    for (var i = 0u; i < p.n; i++) {
        let g = dy4[i * c4 + gid.x];
        sum_dy += g;
        sum_dy_xhat += g * (x4[i * c4 + gid.x] - mean);
    }
    sum_dy_xhat *= invstd;
    for (var k = 0u; k < 4u; k++) { finish_sums(c + k, sum_dy[k], sum_dy_xhat[k]); }
}

// The channels of flat elements 4e .. 4e + 3 when S >= 4: the first one's, the last one's, and
// which of the 4 belong to the last one.
struct Straddle {
    lo: u32,
    hi: u32,
    is_hi: vec4<bool>,
}

// Two integer divisions, not seven: S >= 4, so the 4 elements cross at most one channel
// boundary, found by comparison (llvmpipe divides one lane at a time).
fn straddle(e: u32) -> Straddle {
    let first = e * 4u;
    let block = first / p.s;
    let is_hi = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>((block + 1u) * p.s);
    let lo = block % p.c;
    let next = select(lo + 1u, 0u, lo + 1u == p.c);
    return Straddle(lo, select(lo, next, is_hi.w), is_hi);
}

// Per element of a straddle, the value of channel lo or hi.
fn pick(t: Straddle, lo: f32, hi: f32) -> vec4<f32> {
    return select(vec4<f32>(lo), vec4<f32>(hi), t.is_hi);
}

fn straddling_channels(t: Straddle) -> Channel4 {
    return Channel4(pick(t, gamma[t.lo], gamma[t.hi]), pick(t, stats[t.lo], stats[t.hi]), pick(t, stats[p.c + t.lo], stats[p.c + t.hi]));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_normalize4_straddle(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.s / 4u) { return; }
    let t = straddle(e);
    normalize4(e, straddling_channels(t), pick(t, beta[t.lo], beta[t.hi]));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn bn_backward_dx4_straddle(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.s / 4u) { return; }
    let t = straddle(e);
    let sum_dy = pick(t, sums[t.lo], sums[t.hi]);
    let sum_dy_xhat = pick(t, sums[p.c + t.lo], sums[p.c + t.hi]);
    backward_dx4(e, straddling_channels(t), sum_dy, sum_dy_xhat, f32(p.n * p.s));
}
