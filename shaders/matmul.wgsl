// matmul: C[M,N] = alpha * op(A) . op(B) (+ bias[N]) (+ acc * C)
//   op(A) = A stored [M,K], or A^T with A stored [K,M] when TRANS_A = 1
//   op(B) = B stored [K,N], or B^T with B stored [N,K] when TRANS_B = 1
// These three forms are what Linear layers need: x.W^T forward, dY.W and dY^T.x backward.
//
// Entry points (variants; src/ops/matmul.rs picks one per adapter, tests run both):
//   matmul_register_tile   8x8 outputs per invocation in registers, no workgroup memory.
//                          VEC4 = 1 loads vec4s along the contiguous dimension of each operand
//                          (the launcher sets it only when those dimensions are multiples of 4).
//                          Fast on llvmpipe, where SIMD lanes span invocations and loads dominate.
//   matmul_workgroup_tile  64x64 tile per workgroup staged through workgroup memory, 4x4 outputs
//                          per invocation, BK = 16. The classic tiling for real GPUs.
// Bindings: 1 a, 2 b, 3 bias (read when has_bias), 4 c (read_write).
// Geometry: WG_X, WG_Y come from the prelude; each workgroup covers 64 columns x 64 rows of C.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    has_bias: u32,
    alpha: f32,
    acc: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// op(A)[row, kk]; zero past K so partial k-blocks add nothing.
fn a_at(row: u32, kk: u32) -> f32 {
    if (kk >= p.k || row >= p.m) { return 0.0; }
    var i: u32;
    if (TRANS_A != 0u) { i = kk * p.m + row; } else { i = row * p.k + kk; }
    return a4[i >> 2u][i & 3u];
}

// op(B)[kk, col]; zero past K.
fn b_at(kk: u32, col: u32) -> f32 {
    if (kk >= p.k || col >= p.n) { return 0.0; }
    var i: u32;
    if (TRANS_B != 0u) { i = col * p.k + kk; } else { i = kk * p.n + col; }
    return b4[i >> 2u][i & 3u];
}

fn store(row: u32, col: u32, value: f32) {
    var v = p.alpha * value;
    if (p.has_bias != 0u) { v += bias[col]; }
    let i = row * p.n + col;
    if (p.acc != 0.0) { v += p.acc * c[i]; }
    c[i] = v;
}

const TM: u32 = 8u;
const TN: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn matmul_register_tile(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m0 = gid.y * TM;
    let n0 = gid.x * TN;
    if (m0 >= p.m || n0 >= p.n) { return; }
    // acc[2 * i + h] holds row m0 + i, columns n0 + 4h .. n0 + 4h + 3.
    var acc: array<vec4<f32>, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
    var rows: array<u32, 8>;
    for (var i = 0u; i < TM; i++) { rows[i] = min(m0 + i, p.m - 1u); }
    var cols: array<u32, 8>;
    for (var j = 0u; j < TN; j++) { cols[j] = min(n0 + j, p.n - 1u); }

    let k_main = select(0u, p.k & ~3u, VEC4 != 0u);
    for (var k0 = 0u; k0 < k_main; k0 += 4u) {
        // av[i] = op(A)[row i, k0 .. k0 + 3]
        var av: array<vec4<f32>, 8>;
        if (TRANS_A != 0u) {
            // A stored [K,M]: rows of 4 consecutive m. M % 4 == 0, so a vec4 never straddles.
            let last = p.m / 4u - 1u;
            var lo: array<vec4<f32>, 4>;
            var hi: array<vec4<f32>, 4>;
            for (var kk = 0u; kk < 4u; kk++) {
                let base = (k0 + kk) * (p.m / 4u);
                lo[kk] = a4[base + min(m0 / 4u, last)];
                hi[kk] = a4[base + min(m0 / 4u + 1u, last)];
            }
            for (var i = 0u; i < 4u; i++) {
                av[i] = vec4<f32>(lo[0][i], lo[1][i], lo[2][i], lo[3][i]);
                av[i + 4u] = vec4<f32>(hi[0][i], hi[1][i], hi[2][i], hi[3][i]);
            }
        } else {
            for (var i = 0u; i < TM; i++) { av[i] = a4[(rows[i] * p.k + k0) >> 2u]; }
        }
        // bv[2 * kk + h] = op(B)[k0 + kk, n0 + 4h .. n0 + 4h + 3]
        var bv: array<vec4<f32>, 8>;
        if (TRANS_B != 0u) {
            // B stored [N,K]: each column's 4 consecutive k in one vec4, then transpose.
            var t: array<vec4<f32>, 8>;
            for (var j = 0u; j < TN; j++) { t[j] = b4[(cols[j] * p.k + k0) >> 2u]; }
            for (var kk = 0u; kk < 4u; kk++) {
                bv[2u * kk] = vec4<f32>(t[0][kk], t[1][kk], t[2][kk], t[3][kk]);
                bv[2u * kk + 1u] = vec4<f32>(t[4][kk], t[5][kk], t[6][kk], t[7][kk]);
            }
        } else {
            let last = p.n / 4u - 1u;
            for (var kk = 0u; kk < 4u; kk++) {
                let base = (k0 + kk) * (p.n / 4u);
                bv[2u * kk] = b4[base + min(n0 / 4u, last)];
                bv[2u * kk + 1u] = b4[base + min(n0 / 4u + 1u, last)];
            }
        }
        for (var i = 0u; i < TM; i++) {
            let a = av[i];
            acc[2u * i] += a.x * bv[0] + a.y * bv[2] + a.z * bv[4] + a.w * bv[6];
            acc[2u * i + 1u] += a.x * bv[1] + a.y * bv[3] + a.z * bv[5] + a.w * bv[7];
        }
    }
    // Scalar path (VEC4 = 0) and the last K % 4 steps.
    for (var kk = k_main; kk < p.k; kk++) {
        let b_lo = vec4<f32>(b_at(kk, n0), b_at(kk, n0 + 1u), b_at(kk, n0 + 2u), b_at(kk, n0 + 3u));
        let b_hi = vec4<f32>(b_at(kk, n0 + 4u), b_at(kk, n0 + 5u), b_at(kk, n0 + 6u), b_at(kk, n0 + 7u));
        for (var i = 0u; i < TM; i++) {
            let a = a_at(rows[i], kk);
            acc[2u * i] += a * b_lo;
            acc[2u * i + 1u] += a * b_hi;
        }
    }
    for (var i = 0u; i < TM; i++) {
        let row = m0 + i;
        if (row >= p.m) { break; }
        for (var j = 0u; j < TN; j++) {
            let col = n0 + j;
            if (col >= p.n) { break; }
            store(row, col, acc[2u * i + j / 4u][j % 4u]);
        }
    }
}

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
var<workgroup> tile_a: array<f32, 1024>; // [BK][BM]
var<workgroup> tile_b: array<f32, 1024>; // [BK][BN]

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn matmul_workgroup_tile(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let tm0 = wid.y * BM;
    let tn0 = wid.x * BN;
    let t = lid.y * WG_X + lid.x;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        // 1024 values per tile, 4 per invocation; neighbours read neighbouring addresses.
        for (var r = 0u; r < 4u; r++) {
            let idx = t + r * 256u;
            var kk: u32; var mm: u32;
            if (TRANS_A != 0u) { kk = idx / BM; mm = idx % BM; } else { kk = idx % BK; mm = idx / BK; }
            tile_a[kk * BM + mm] = a_at(tm0 + mm, k0 + kk);
            var kb: u32; var nn: u32;
            if (TRANS_B != 0u) { kb = idx % BK; nn = idx / BK; } else { kb = idx / BN; nn = idx % BN; }
            tile_b[kb * BN + nn] = b_at(k0 + kb, tn0 + nn);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let a = vec4<f32>(tile_a[kk * BM + lid.y * 4u], tile_a[kk * BM + lid.y * 4u + 1u],
                              tile_a[kk * BM + lid.y * 4u + 2u], tile_a[kk * BM + lid.y * 4u + 3u]);
            let b = vec4<f32>(tile_b[kk * BN + lid.x * 4u], tile_b[kk * BN + lid.x * 4u + 1u],
                              tile_b[kk * BN + lid.x * 4u + 2u], tile_b[kk * BN + lid.x * 4u + 3u]);
            for (var i = 0u; i < 4u; i++) {
                acc[i * 4u] += a[i] * b.x;
                acc[i * 4u + 1u] += a[i] * b.y;
                acc[i * 4u + 2u] += a[i] * b.z;
                acc[i * 4u + 3u] += a[i] * b.w;
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let row = tm0 + lid.y * 4u + i;
        if (row >= p.m) { break; }
        for (var j = 0u; j < 4u; j++) {
            let col = tn0 + lid.x * 4u + j;
            if (col < p.n) { store(row, col, acc[i * 4u + j]); }
        }
    }
}
