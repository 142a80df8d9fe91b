// matmul: C[M,N] = alpha * op(A) . op(B) (+ bias[N]) (+ acc * C)
//   op(A) = A stored [M,K], or A^T with A stored [K,M] when TRANS_A = 1
//   op(B) = B stored [K,N], or B^T with B stored [N,K] when TRANS_B = 1
// These three forms are what Linear layers need: x.W^T forward, dY.W and dY^T.x backward.
//
// Entry points (variants; src/ops/matmul.rs picks one per adapter, tests run both):
//   matmul_register_tile        32x32 outputs per invocation in registers, vec4 loads only.
//   matmul_register_tile_small  8x8 outputs per invocation, any shape. VEC4 = 1 loads vec4s along
//                               the contiguous dimension of each operand (the launcher sets it
//                               only when those dimensions are multiples of 4).
//                               Both are for llvmpipe: SIMD lanes span invocations, loads dominate.
//   (The 32x32 tile never reads A^T: lavapipe's LLVM did not finish compiling it with
//   transposing loads of A, so the launcher transposes A first, shaders/layout.wgsl.)
//   matmul_workgroup_tile  64x64 tile per workgroup staged through workgroup memory, 4x4 outputs
//                          per invocation, BK = 16. The classic tiling for real GPUs.
// Bindings: 1 a, 2 b, 3 bias (read when has_bias), 4 c (read_write).
// Geometry: WG_X, WG_Y and the tile TILE_M x TILE_N (outputs per invocation) with its K step
// TILE_K come from the prelude; src/ops/matmul.rs computes the grid from the same numbers. The
// register tiles are unrolled by hand for their sizes (32x32 and 8x8, K step 4 = one vec4).

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// Rows per stored block of A^T: all of M unless A is blocked.
fn a_rows() -> u32 {
    return select(p.m, p.a_block_rows, p.a_block_rows != 0u);
}

// Index of A^T's (row, kk) in its storage: [K, M], or blocked [M / rows, K, rows]. The plain
// case skips the divisions (the workgroup tile calls this in its inner loads).
fn at_index(row: u32, kk: u32) -> u32 {
    if (p.a_block_rows == 0u) { return kk * p.m + row; }
    let rows = p.a_block_rows;
    return ((row / rows) * p.k + kk) * rows + row % rows;
}

// op(A)[row, kk]; zero past K so partial k-blocks add nothing.
fn a_at(row: u32, kk: u32) -> f32 {
    if (kk >= p.k || row >= p.m) { return 0.0; }
    var i: u32;
    if (TRANS_A != 0u) { i = at_index(row, kk); } else { i = row * p.k + kk; }
    return a4[i >> 2u][i & 3u];
}

// op(B)[kk, col]; zero past K.
fn b_at(kk: u32, col: u32) -> f32 {
    if (kk >= p.k || col >= p.n) { return 0.0; }
    var i: u32;
    if (TRANS_B != 0u) { i = col * p.k + kk; } else { i = kk * p.n + col; }
    return b4[i >> 2u][i & 3u];
}

// Where this invocation's C starts (a split-K partial's slice; 0 otherwise).
var<private> c_base: u32;

fn store(row: u32, col: u32, value: f32) {
    var v = p.alpha * value;
    if (p.has_bias != 0u) { v += bias[col]; }
    let i = c_base + row * p.n + col;
    if (p.acc != 0.0) { v += p.acc * c[i]; }
    c[i] = v;
}

// Register tiles. On llvmpipe each load instruction costs roughly the same whatever its width
// (it is executed lane by lane), so throughput is set by multiply-adds per load: a TM x TN tile
// does 4*TM*TN of them per TM + TN vec4 loads. A function-local array indexed in a loop lands in
// per-lane scratch memory, so tiles live in named mat4x4 variables, unrolled by hand below.
// Measured on lavapipe (Mesa 25, 2 cores), 1024^3: 8x8 tile 5 GFLOP/s, 16x16 6.4, 32x32 11.

// Column r: op(A)[r0 + r, k0 .. k0 + 3], rows clamped (their results are never stored).
fn a_block(r0: u32, k0: u32, fast: bool) -> mat4x4<f32> {
    let r = min(vec4<u32>(r0, r0 + 1u, r0 + 2u, r0 + 3u), vec4<u32>(p.m - 1u));
    if (fast) {
        if (TRANS_A != 0u) {
            // A^T stored [K,M] (or in blocks of rows, a multiple of 4): one vec4 along m per k,
            // then transpose.
            let s = a_rows() / 4u;
            let q = at_index(min(r0, p.m - 4u), 0u) / 4u;
            return transpose(mat4x4<f32>(a4[k0 * s + q], a4[(k0 + 1u) * s + q], a4[(k0 + 2u) * s + q], a4[(k0 + 3u) * s + q]));
        }
        return mat4x4<f32>(a4[(r.x * p.k + k0) >> 2u], a4[(r.y * p.k + k0) >> 2u], a4[(r.z * p.k + k0) >> 2u], a4[(r.w * p.k + k0) >> 2u]);
    }
    return mat4x4<f32>(
        vec4<f32>(a_at(r.x, k0), a_at(r.x, k0 + 1u), a_at(r.x, k0 + 2u), a_at(r.x, k0 + 3u)),
        vec4<f32>(a_at(r.y, k0), a_at(r.y, k0 + 1u), a_at(r.y, k0 + 2u), a_at(r.y, k0 + 3u)),
        vec4<f32>(a_at(r.z, k0), a_at(r.z, k0 + 1u), a_at(r.z, k0 + 2u), a_at(r.z, k0 + 3u)),
        vec4<f32>(a_at(r.w, k0), a_at(r.w, k0 + 1u), a_at(r.w, k0 + 2u), a_at(r.w, k0 + 3u)));
}

// Column kk: op(B)[k0 + kk, c0 .. c0 + 3], columns clamped.
fn b_block(k0: u32, c0: u32, fast: bool) -> mat4x4<f32> {
    if (fast) {
        if (TRANS_B != 0u) {
            // B stored [N,K] with K % 4 == 0: one vec4 along k per column, then transpose.
            let c = min(vec4<u32>(c0, c0 + 1u, c0 + 2u, c0 + 3u), vec4<u32>(p.n - 1u));
            return transpose(mat4x4<f32>(b4[(c.x * p.k + k0) >> 2u], b4[(c.y * p.k + k0) >> 2u], b4[(c.z * p.k + k0) >> 2u], b4[(c.w * p.k + k0) >> 2u]));
        }
        let s = p.n / 4u;
        let q = min(c0 / 4u, s - 1u);
        return mat4x4<f32>(b4[k0 * s + q], b4[(k0 + 1u) * s + q], b4[(k0 + 2u) * s + q], b4[(k0 + 3u) * s + q]);
    }
    return mat4x4<f32>(
        vec4<f32>(b_at(k0, c0), b_at(k0, c0 + 1u), b_at(k0, c0 + 2u), b_at(k0, c0 + 3u)),
        vec4<f32>(b_at(k0 + 1u, c0), b_at(k0 + 1u, c0 + 1u), b_at(k0 + 1u, c0 + 2u), b_at(k0 + 1u, c0 + 3u)),
        vec4<f32>(b_at(k0 + 2u, c0), b_at(k0 + 2u, c0 + 1u), b_at(k0 + 2u, c0 + 2u), b_at(k0 + 2u, c0 + 3u)),
        vec4<f32>(b_at(k0 + 3u, c0), b_at(k0 + 3u, c0 + 1u), b_at(k0 + 3u, c0 + 2u), b_at(k0 + 3u, c0 + 3u)));
}

// Column r of `acc` is row r0 + r of C, columns c0 .. c0 + 3.
fn store_block(acc: mat4x4<f32>, r0: u32, c0: u32) {
    for (var r = 0u; r < 4u; r++) {
        if (r0 + r >= p.m) { return; }
        for (var j = 0u; j < 4u; j++) {
            if (c0 + j < p.n) { store(r0 + r, c0 + j, acc[r][j]); }
        }
    }
}

// 32x32 outputs per invocation (8x8 blocks of 4x4). Needs the vec4 conditions and K % 4 == 0.
// The llvmpipe compile of this entry takes seconds, so it has no scalar path: anything that does
// not fit runs matmul_register_tile_small.
@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn matmul_register_tile(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m0 = gid.y * TILE_M;
    let n0 = gid.x * TILE_N;
    if (m0 >= p.m || n0 >= p.n) { return; }
    // acc_ij = (rows m0+4i.., columns n0+4j..)^T: B^T A^T accumulates (A B)^T.
    var acc00 = mat4x4<f32>(); var acc01 = mat4x4<f32>(); var acc02 = mat4x4<f32>(); var acc03 = mat4x4<f32>(); var acc04 = mat4x4<f32>(); var acc05 = mat4x4<f32>(); var acc06 = mat4x4<f32>(); var acc07 = mat4x4<f32>();
    var acc10 = mat4x4<f32>(); var acc11 = mat4x4<f32>(); var acc12 = mat4x4<f32>(); var acc13 = mat4x4<f32>(); var acc14 = mat4x4<f32>(); var acc15 = mat4x4<f32>(); var acc16 = mat4x4<f32>(); var acc17 = mat4x4<f32>();
    var acc20 = mat4x4<f32>(); var acc21 = mat4x4<f32>(); var acc22 = mat4x4<f32>(); var acc23 = mat4x4<f32>(); var acc24 = mat4x4<f32>(); var acc25 = mat4x4<f32>(); var acc26 = mat4x4<f32>(); var acc27 = mat4x4<f32>();
    var acc30 = mat4x4<f32>(); var acc31 = mat4x4<f32>(); var acc32 = mat4x4<f32>(); var acc33 = mat4x4<f32>(); var acc34 = mat4x4<f32>(); var acc35 = mat4x4<f32>(); var acc36 = mat4x4<f32>(); var acc37 = mat4x4<f32>();
    var acc40 = mat4x4<f32>(); var acc41 = mat4x4<f32>(); var acc42 = mat4x4<f32>(); var acc43 = mat4x4<f32>(); var acc44 = mat4x4<f32>(); var acc45 = mat4x4<f32>(); var acc46 = mat4x4<f32>(); var acc47 = mat4x4<f32>();
    var acc50 = mat4x4<f32>(); var acc51 = mat4x4<f32>(); var acc52 = mat4x4<f32>(); var acc53 = mat4x4<f32>(); var acc54 = mat4x4<f32>(); var acc55 = mat4x4<f32>(); var acc56 = mat4x4<f32>(); var acc57 = mat4x4<f32>();
    var acc60 = mat4x4<f32>(); var acc61 = mat4x4<f32>(); var acc62 = mat4x4<f32>(); var acc63 = mat4x4<f32>(); var acc64 = mat4x4<f32>(); var acc65 = mat4x4<f32>(); var acc66 = mat4x4<f32>(); var acc67 = mat4x4<f32>();
    var acc70 = mat4x4<f32>(); var acc71 = mat4x4<f32>(); var acc72 = mat4x4<f32>(); var acc73 = mat4x4<f32>(); var acc74 = mat4x4<f32>(); var acc75 = mat4x4<f32>(); var acc76 = mat4x4<f32>(); var acc77 = mat4x4<f32>();
    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        let a0 = a_block(m0 + 0u, k0, true);
        let a1 = a_block(m0 + 4u, k0, true);
        let a2 = a_block(m0 + 8u, k0, true);
        let a3 = a_block(m0 + 12u, k0, true);
        let a4 = a_block(m0 + 16u, k0, true);
        let a5 = a_block(m0 + 20u, k0, true);
        let a6 = a_block(m0 + 24u, k0, true);
        let a7 = a_block(m0 + 28u, k0, true);
        let b0 = b_block(k0, n0 + 0u, true);
        let b1 = b_block(k0, n0 + 4u, true);
        let b2 = b_block(k0, n0 + 8u, true);
        let b3 = b_block(k0, n0 + 12u, true);
        let b4 = b_block(k0, n0 + 16u, true);
        let b5 = b_block(k0, n0 + 20u, true);
        let b6 = b_block(k0, n0 + 24u, true);
        let b7 = b_block(k0, n0 + 28u, true);
        acc00 += b0 * a0; acc01 += b1 * a0; acc02 += b2 * a0; acc03 += b3 * a0; acc04 += b4 * a0; acc05 += b5 * a0; acc06 += b6 * a0; acc07 += b7 * a0;
        acc10 += b0 * a1; acc11 += b1 * a1; acc12 += b2 * a1; acc13 += b3 * a1; acc14 += b4 * a1; acc15 += b5 * a1; acc16 += b6 * a1; acc17 += b7 * a1;
        acc20 += b0 * a2; acc21 += b1 * a2; acc22 += b2 * a2; acc23 += b3 * a2; acc24 += b4 * a2; acc25 += b5 * a2; acc26 += b6 * a2; acc27 += b7 * a2;
        acc30 += b0 * a3; acc31 += b1 * a3; acc32 += b2 * a3; acc33 += b3 * a3; acc34 += b4 * a3; acc35 += b5 * a3; acc36 += b6 * a3; acc37 += b7 * a3;
        acc40 += b0 * a4; acc41 += b1 * a4; acc42 += b2 * a4; acc43 += b3 * a4; acc44 += b4 * a4; acc45 += b5 * a4; acc46 += b6 * a4; acc47 += b7 * a4;
        acc50 += b0 * a5; acc51 += b1 * a5; acc52 += b2 * a5; acc53 += b3 * a5; acc54 += b4 * a5; acc55 += b5 * a5; acc56 += b6 * a5; acc57 += b7 * a5;
        acc60 += b0 * a6; acc61 += b1 * a6; acc62 += b2 * a6; acc63 += b3 * a6; acc64 += b4 * a6; acc65 += b5 * a6; acc66 += b6 * a6; acc67 += b7 * a6;
        acc70 += b0 * a7; acc71 += b1 * a7; acc72 += b2 * a7; acc73 += b3 * a7; acc74 += b4 * a7; acc75 += b5 * a7; acc76 += b6 * a7; acc77 += b7 * a7;
    }
    store_block(acc00, m0 + 0u, n0 + 0u); store_block(acc01, m0 + 0u, n0 + 4u); store_block(acc02, m0 + 0u, n0 + 8u); store_block(acc03, m0 + 0u, n0 + 12u); store_block(acc04, m0 + 0u, n0 + 16u); store_block(acc05, m0 + 0u, n0 + 20u); store_block(acc06, m0 + 0u, n0 + 24u); store_block(acc07, m0 + 0u, n0 + 28u);
    store_block(acc10, m0 + 4u, n0 + 0u); store_block(acc11, m0 + 4u, n0 + 4u); store_block(acc12, m0 + 4u, n0 + 8u); store_block(acc13, m0 + 4u, n0 + 12u); store_block(acc14, m0 + 4u, n0 + 16u); store_block(acc15, m0 + 4u, n0 + 20u); store_block(acc16, m0 + 4u, n0 + 24u); store_block(acc17, m0 + 4u, n0 + 28u);
    store_block(acc20, m0 + 8u, n0 + 0u); store_block(acc21, m0 + 8u, n0 + 4u); store_block(acc22, m0 + 8u, n0 + 8u); store_block(acc23, m0 + 8u, n0 + 12u); store_block(acc24, m0 + 8u, n0 + 16u); store_block(acc25, m0 + 8u, n0 + 20u); store_block(acc26, m0 + 8u, n0 + 24u); store_block(acc27, m0 + 8u, n0 + 28u);
    store_block(acc30, m0 + 12u, n0 + 0u); store_block(acc31, m0 + 12u, n0 + 4u); store_block(acc32, m0 + 12u, n0 + 8u); store_block(acc33, m0 + 12u, n0 + 12u); store_block(acc34, m0 + 12u, n0 + 16u); store_block(acc35, m0 + 12u, n0 + 20u); store_block(acc36, m0 + 12u, n0 + 24u); store_block(acc37, m0 + 12u, n0 + 28u);
    store_block(acc40, m0 + 16u, n0 + 0u); store_block(acc41, m0 + 16u, n0 + 4u); store_block(acc42, m0 + 16u, n0 + 8u); store_block(acc43, m0 + 16u, n0 + 12u); store_block(acc44, m0 + 16u, n0 + 16u); store_block(acc45, m0 + 16u, n0 + 20u); store_block(acc46, m0 + 16u, n0 + 24u); store_block(acc47, m0 + 16u, n0 + 28u);
    store_block(acc50, m0 + 20u, n0 + 0u); store_block(acc51, m0 + 20u, n0 + 4u); store_block(acc52, m0 + 20u, n0 + 8u); store_block(acc53, m0 + 20u, n0 + 12u); store_block(acc54, m0 + 20u, n0 + 16u); store_block(acc55, m0 + 20u, n0 + 20u); store_block(acc56, m0 + 20u, n0 + 24u); store_block(acc57, m0 + 20u, n0 + 28u);
    store_block(acc60, m0 + 24u, n0 + 0u); store_block(acc61, m0 + 24u, n0 + 4u); store_block(acc62, m0 + 24u, n0 + 8u); store_block(acc63, m0 + 24u, n0 + 12u); store_block(acc64, m0 + 24u, n0 + 16u); store_block(acc65, m0 + 24u, n0 + 20u); store_block(acc66, m0 + 24u, n0 + 24u); store_block(acc67, m0 + 24u, n0 + 28u);
    store_block(acc70, m0 + 28u, n0 + 0u); store_block(acc71, m0 + 28u, n0 + 4u); store_block(acc72, m0 + 28u, n0 + 8u); store_block(acc73, m0 + 28u, n0 + 12u); store_block(acc74, m0 + 28u, n0 + 16u); store_block(acc75, m0 + 28u, n0 + 20u); store_block(acc76, m0 + 28u, n0 + 24u); store_block(acc77, m0 + 28u, n0 + 28u);
}

// 8x8 outputs per invocation, any shape: vec4 steps along K where VEC4 = 1, then masked scalar
// steps for the rest (all of K where VEC4 = 0). With k_split, a small C with a long K (a conv
// weight gradient summed over every pixel of the batch) spreads over gid.z workgroups instead of
// running on one core; the launcher sums the partials.
@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn matmul_register_tile_small(@builtin(global_invocation_id) gid: vec3<u32>) {
    let along_x = p.rows_along_x != 0u;
    let m0 = select(gid.y, gid.x, along_x) * TILE_M;
    let n0 = select(gid.x, gid.y, along_x) * TILE_N;
    if (m0 >= p.m || n0 >= p.n) { return; }
    var k_begin = 0u;
    var k_end = p.k;
    if (p.k_split != 0u) {
        k_begin = gid.z * p.k_split;
        k_end = min(p.k, k_begin + p.k_split);
        c_base = gid.z * p.m * p.n;
    }
    var acc00 = mat4x4<f32>(); var acc01 = mat4x4<f32>();
    var acc10 = mat4x4<f32>(); var acc11 = mat4x4<f32>();
    // Two loops rather than one with a branch: llvmpipe may run both sides of a branch. Only the
    // last split can end off a multiple of 4, and there the masked loads stop at K.
    let k_fast = select(k_begin, k_begin + ((k_end - k_begin) & ~3u), VEC4 != 0u);
    for (var k0 = k_begin; k0 < k_fast; k0 += TILE_K) {
        let a0 = a_block(m0 + 0u, k0, true);
        let a1 = a_block(m0 + 4u, k0, true);
        let b0 = b_block(k0, n0 + 0u, true);
        let b1 = b_block(k0, n0 + 4u, true);
        acc00 += b0 * a0; acc01 += b1 * a0;
        acc10 += b0 * a1; acc11 += b1 * a1;
    }
    for (var k0 = k_fast; k0 < k_end; k0 += TILE_K) {
        let a0 = a_block(m0 + 0u, k0, false);
        let a1 = a_block(m0 + 4u, k0, false);
        let b0 = b_block(k0, n0 + 0u, false);
        let b1 = b_block(k0, n0 + 4u, false);
        acc00 += b0 * a0; acc01 += b1 * a0;
        acc10 += b0 * a1; acc11 += b1 * a1;
    }
    store_block(acc00, m0 + 0u, n0 + 0u); store_block(acc01, m0 + 0u, n0 + 4u);
    store_block(acc10, m0 + 4u, n0 + 0u); store_block(acc11, m0 + 4u, n0 + 4u);
}

// A workgroup's tile of C is BM x BN; each invocation holds TILE_M x TILE_N of it (4x4: the
// inner product below reads rows and columns as vec4s). The BK x BM tile of A and the BK x BN
// tile of B (BM = BN) take LOADS loads per invocation each.
const BM: u32 = WG_Y * TILE_M;
const BN: u32 = WG_X * TILE_N;
const BK: u32 = TILE_K;
const LOADS: u32 = BK * BM / WG_SIZE;
var<workgroup> tile_a: array<f32, BK * BM>; // [BK][BM]
var<workgroup> tile_b: array<f32, BK * BN>; // [BK][BN]

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn matmul_workgroup_tile(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let tm0 = wid.y * BM;
    let tn0 = wid.x * BN;
    let t = lid.y * WG_X + lid.x;
    // With k_split (a multiple of BK), workgroup z sums its own K range into its own partial C.
    var k_begin = 0u;
    var k_end = p.k;
    if (p.k_split != 0u) {
        k_begin = wid.z * p.k_split;
        k_end = min(p.k, k_begin + p.k_split);
        c_base = wid.z * p.m * p.n;
    }
    var acc: array<f32, TILE_M * TILE_N>;
    for (var i = 0u; i < TILE_M * TILE_N; i++) { acc[i] = 0.0; }
    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        // LOADS values of each tile per invocation; neighbours read neighbouring addresses.
        for (var r = 0u; r < LOADS; r++) {
            let idx = t + r * WG_SIZE;
            var kk: u32; var mm: u32;
            if (TRANS_A != 0u) { kk = idx / BM; mm = idx % BM; } else { kk = idx % BK; mm = idx / BK; }
            tile_a[kk * BM + mm] = a_at(tm0 + mm, k0 + kk);
            var kb: u32; var nn: u32;
            if (TRANS_B != 0u) { kb = idx % BK; nn = idx / BK; } else { kb = idx / BN; nn = idx % BN; }
            tile_b[kb * BN + nn] = b_at(k0 + kb, tn0 + nn);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let a = vec4<f32>(tile_a[kk * BM + lid.y * TILE_M], tile_a[kk * BM + lid.y * TILE_M + 1u],
                              tile_a[kk * BM + lid.y * TILE_M + 2u], tile_a[kk * BM + lid.y * TILE_M + 3u]);
            let b = vec4<f32>(tile_b[kk * BN + lid.x * TILE_N], tile_b[kk * BN + lid.x * TILE_N + 1u],
                              tile_b[kk * BN + lid.x * TILE_N + 2u], tile_b[kk * BN + lid.x * TILE_N + 3u]);
            for (var i = 0u; i < TILE_M; i++) {
                acc[i * TILE_N] += a[i] * b.x;
                acc[i * TILE_N + 1u] += a[i] * b.y;
                acc[i * TILE_N + 2u] += a[i] * b.z;
                acc[i * TILE_N + 3u] += a[i] * b.w;
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < TILE_M; i++) {
        let row = tm0 + lid.y * TILE_M + i;
        if (row >= p.m) { break; }
        for (var j = 0u; j < TILE_N; j++) {
            let col = tn0 + lid.x * TILE_N + j;
            if (col < p.n) { store(row, col, acc[i * TILE_N + j]); }
        }
    }
}
