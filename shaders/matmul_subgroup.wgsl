// matmul_subgroup: C[M,N] = alpha * A . op(B) (+ bias[N]) (+ acc * C), the product of
// shaders/matmul.wgsl for llvmpipe, with the operand every lane shares loaded once.
//   A stored [M,K] (the launcher transposes A^T first), K % 4 == 0.
//   op(B) = B stored [K,N], or B^T with B stored [N,K] when TRANS_B = 1; N % 4 == 0 either way
//   (C and the bias are written and read as vec4s).
// On llvmpipe a subgroup is one SIMD vector (8 lanes) and a storage load is a loop over the lanes,
// so loads cost per lane whatever their addresses, while subgroupBroadcast from a constant lane is
// a register shuffle. Here a workgroup is one subgroup: 8 lanes side by side along N, each with
// 64 rows x 8 columns of C. All 8 need the same 64 rows of A; each lane loads 8 of them and
// broadcasts, so a k-step of 4 costs 8 + 8 vec4 loads per lane for 2048 multiply-adds. (In
// matmul_register_tile every lane loads all its rows of A itself.) Measured on lavapipe (Mesa 25,
// 2 cores): 16-24 GFLOP/s against 10-14. Of the tiles tried (16x16 to 128x4, 32x32) 64x8 was
// fastest and compiles in 0.4 s; 64x16 took LLVM three minutes. The launcher runs this entry only
// where the adapter's subgroups are exactly 8 wide (the subgroup-tile variant).
// Bindings: 1 a, 2 b, 3 bias (read when has_bias), 4 c (read_write).

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> c4: array<vec4<f32>>;

// A[row, k0 .. k0 + 3], the row clamped (results of clamped rows are never stored).
fn a_share(row: u32, k0: u32) -> vec4<f32> {
    return a4[(min(row, p.m - 1u) * p.k + k0) >> 2u];
}

// Column kk: op(B)[k0 + kk, c0 .. c0 + 3], columns clamped.
fn b_block(k0: u32, c0: u32) -> mat4x4<f32> {
    if (TRANS_B != 0u) {
        let c = min(vec4<u32>(c0, c0 + 1u, c0 + 2u, c0 + 3u), vec4<u32>(p.n - 1u));
        return transpose(mat4x4<f32>(b4[(c.x * p.k + k0) >> 2u], b4[(c.y * p.k + k0) >> 2u], b4[(c.z * p.k + k0) >> 2u], b4[(c.w * p.k + k0) >> 2u]));
    }
    let s = p.n / 4u;
    let q = min(c0 / 4u, s - 1u);
    return mat4x4<f32>(b4[k0 * s + q], b4[(k0 + 1u) * s + q], b4[(k0 + 2u) * s + q], b4[(k0 + 3u) * s + q]);
}

// Row `row` of C, columns c0 .. c0 + 3, as one vec4 (N % 4 == 0, so a block is all in or out).
fn store_row(v: vec4<f32>, row: u32, c0: u32, b: vec4<f32>) {
    if (row < p.m) {
        let i = (row * p.n + c0) / 4u;
        var out = p.alpha * v + b;
        if (p.acc != 0.0) { out += p.acc * c4[i]; }
        c4[i] = out;
    }
}

// Column r of `acc` is row r0 + r of C, columns c0 .. c0 + 3: a quarter of the per-lane store
// loops of scalar stores. Unrolled, without the early return a row loop needs: llvmpipe masks
// every write inside a loop, which shows where K is short. At 1024 x 6272 x 64 (a Linear
// weight gradient's shape) the unrolled epilogue took 12% less CPU time; at K = 1024, the same.
fn store_block(acc: mat4x4<f32>, r0: u32, c0: u32) {
    if (c0 < p.n) {
        var b = vec4<f32>();
        if (p.has_bias != 0u) { b = bias4[c0 / 4u]; }
        store_row(acc[0], r0, c0, b);
        store_row(acc[1], r0 + 1u, c0, b);
        store_row(acc[2], r0 + 2u, c0, b);
        store_row(acc[3], r0 + 3u, c0, b);
    }
}

// acc{i}_{j}: rows m0 + 4i .. + 3, columns n0 + 4j .. + 3, as in matmul.wgsl's register tile.
// Lane l holds rows m0 + l + 8s in share s: rows m0 + 4i + t come from lane 4(i % 2) + t of share
// i / 2. No lane returns early: every lane takes part in the broadcasts.
@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn matmul_subgroup_tile(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let m0 = wid.y * TILE_M;
    let n0 = (wid.x * WG_X + lane) * TILE_N;
    var acc0_0 = mat4x4<f32>(); var acc0_1 = mat4x4<f32>();
    var acc1_0 = mat4x4<f32>(); var acc1_1 = mat4x4<f32>();
    var acc2_0 = mat4x4<f32>(); var acc2_1 = mat4x4<f32>();
    var acc3_0 = mat4x4<f32>(); var acc3_1 = mat4x4<f32>();
    var acc4_0 = mat4x4<f32>(); var acc4_1 = mat4x4<f32>();
    var acc5_0 = mat4x4<f32>(); var acc5_1 = mat4x4<f32>();
    var acc6_0 = mat4x4<f32>(); var acc6_1 = mat4x4<f32>();
    var acc7_0 = mat4x4<f32>(); var acc7_1 = mat4x4<f32>();
    var acc8_0 = mat4x4<f32>(); var acc8_1 = mat4x4<f32>();
    var acc9_0 = mat4x4<f32>(); var acc9_1 = mat4x4<f32>();
    var acc10_0 = mat4x4<f32>(); var acc10_1 = mat4x4<f32>();
    var acc11_0 = mat4x4<f32>(); var acc11_1 = mat4x4<f32>();
    var acc12_0 = mat4x4<f32>(); var acc12_1 = mat4x4<f32>();
    var acc13_0 = mat4x4<f32>(); var acc13_1 = mat4x4<f32>();
    var acc14_0 = mat4x4<f32>(); var acc14_1 = mat4x4<f32>();
    var acc15_0 = mat4x4<f32>(); var acc15_1 = mat4x4<f32>();
    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        let s0 = a_share(m0 + lane + 0u, k0);
        let s1 = a_share(m0 + lane + 8u, k0);
        let s2 = a_share(m0 + lane + 16u, k0);
        let s3 = a_share(m0 + lane + 24u, k0);
        let s4 = a_share(m0 + lane + 32u, k0);
        let s5 = a_share(m0 + lane + 40u, k0);
        let s6 = a_share(m0 + lane + 48u, k0);
        let s7 = a_share(m0 + lane + 56u, k0);
        let b0 = b_block(k0, n0 + 0u);
        let b1 = b_block(k0, n0 + 4u);
        let a0 = mat4x4<f32>(subgroupBroadcast(s0, 0u), subgroupBroadcast(s0, 1u), subgroupBroadcast(s0, 2u), subgroupBroadcast(s0, 3u));
        acc0_0 += b0 * a0; acc0_1 += b1 * a0;
        let a1 = mat4x4<f32>(subgroupBroadcast(s0, 4u), subgroupBroadcast(s0, 5u), subgroupBroadcast(s0, 6u), subgroupBroadcast(s0, 7u));
        acc1_0 += b0 * a1; acc1_1 += b1 * a1;
        let a2 = mat4x4<f32>(subgroupBroadcast(s1, 0u), subgroupBroadcast(s1, 1u), subgroupBroadcast(s1, 2u), subgroupBroadcast(s1, 3u));
        acc2_0 += b0 * a2; acc2_1 += b1 * a2;
        let a3 = mat4x4<f32>(subgroupBroadcast(s1, 4u), subgroupBroadcast(s1, 5u), subgroupBroadcast(s1, 6u), subgroupBroadcast(s1, 7u));
        acc3_0 += b0 * a3; acc3_1 += b1 * a3;
        let a4 = mat4x4<f32>(subgroupBroadcast(s2, 0u), subgroupBroadcast(s2, 1u), subgroupBroadcast(s2, 2u), subgroupBroadcast(s2, 3u));
        acc4_0 += b0 * a4; acc4_1 += b1 * a4;
        let a5 = mat4x4<f32>(subgroupBroadcast(s2, 4u), subgroupBroadcast(s2, 5u), subgroupBroadcast(s2, 6u), subgroupBroadcast(s2, 7u));
        acc5_0 += b0 * a5; acc5_1 += b1 * a5;
        let a6 = mat4x4<f32>(subgroupBroadcast(s3, 0u), subgroupBroadcast(s3, 1u), subgroupBroadcast(s3, 2u), subgroupBroadcast(s3, 3u));
        acc6_0 += b0 * a6; acc6_1 += b1 * a6;
        let a7 = mat4x4<f32>(subgroupBroadcast(s3, 4u), subgroupBroadcast(s3, 5u), subgroupBroadcast(s3, 6u), subgroupBroadcast(s3, 7u));
        acc7_0 += b0 * a7; acc7_1 += b1 * a7;
        let a8 = mat4x4<f32>(subgroupBroadcast(s4, 0u), subgroupBroadcast(s4, 1u), subgroupBroadcast(s4, 2u), subgroupBroadcast(s4, 3u));
        acc8_0 += b0 * a8; acc8_1 += b1 * a8;
        let a9 = mat4x4<f32>(subgroupBroadcast(s4, 4u), subgroupBroadcast(s4, 5u), subgroupBroadcast(s4, 6u), subgroupBroadcast(s4, 7u));
        acc9_0 += b0 * a9; acc9_1 += b1 * a9;
        let a10 = mat4x4<f32>(subgroupBroadcast(s5, 0u), subgroupBroadcast(s5, 1u), subgroupBroadcast(s5, 2u), subgroupBroadcast(s5, 3u));
        acc10_0 += b0 * a10; acc10_1 += b1 * a10;
        let a11 = mat4x4<f32>(subgroupBroadcast(s5, 4u), subgroupBroadcast(s5, 5u), subgroupBroadcast(s5, 6u), subgroupBroadcast(s5, 7u));
        acc11_0 += b0 * a11; acc11_1 += b1 * a11;
        let a12 = mat4x4<f32>(subgroupBroadcast(s6, 0u), subgroupBroadcast(s6, 1u), subgroupBroadcast(s6, 2u), subgroupBroadcast(s6, 3u));
        acc12_0 += b0 * a12; acc12_1 += b1 * a12;
        let a13 = mat4x4<f32>(subgroupBroadcast(s6, 4u), subgroupBroadcast(s6, 5u), subgroupBroadcast(s6, 6u), subgroupBroadcast(s6, 7u));
        acc13_0 += b0 * a13; acc13_1 += b1 * a13;
        let a14 = mat4x4<f32>(subgroupBroadcast(s7, 0u), subgroupBroadcast(s7, 1u), subgroupBroadcast(s7, 2u), subgroupBroadcast(s7, 3u));
        acc14_0 += b0 * a14; acc14_1 += b1 * a14;
        let a15 = mat4x4<f32>(subgroupBroadcast(s7, 4u), subgroupBroadcast(s7, 5u), subgroupBroadcast(s7, 6u), subgroupBroadcast(s7, 7u));
        acc15_0 += b0 * a15; acc15_1 += b1 * a15;
    }
    store_block(acc0_0, m0 + 0u, n0 + 0u); store_block(acc0_1, m0 + 0u, n0 + 4u);
    store_block(acc1_0, m0 + 4u, n0 + 0u); store_block(acc1_1, m0 + 4u, n0 + 4u);
    store_block(acc2_0, m0 + 8u, n0 + 0u); store_block(acc2_1, m0 + 8u, n0 + 4u);
    store_block(acc3_0, m0 + 12u, n0 + 0u); store_block(acc3_1, m0 + 12u, n0 + 4u);
    store_block(acc4_0, m0 + 16u, n0 + 0u); store_block(acc4_1, m0 + 16u, n0 + 4u);
    store_block(acc5_0, m0 + 20u, n0 + 0u); store_block(acc5_1, m0 + 20u, n0 + 4u);
    store_block(acc6_0, m0 + 24u, n0 + 0u); store_block(acc6_1, m0 + 24u, n0 + 4u);
    store_block(acc7_0, m0 + 28u, n0 + 0u); store_block(acc7_1, m0 + 28u, n0 + 4u);
    store_block(acc8_0, m0 + 32u, n0 + 0u); store_block(acc8_1, m0 + 32u, n0 + 4u);
    store_block(acc9_0, m0 + 36u, n0 + 0u); store_block(acc9_1, m0 + 36u, n0 + 4u);
    store_block(acc10_0, m0 + 40u, n0 + 0u); store_block(acc10_1, m0 + 40u, n0 + 4u);
    store_block(acc11_0, m0 + 44u, n0 + 0u); store_block(acc11_1, m0 + 44u, n0 + 4u);
    store_block(acc12_0, m0 + 48u, n0 + 0u); store_block(acc12_1, m0 + 48u, n0 + 4u);
    store_block(acc13_0, m0 + 52u, n0 + 0u); store_block(acc13_1, m0 + 52u, n0 + 4u);
    store_block(acc14_0, m0 + 56u, n0 + 0u); store_block(acc14_1, m0 + 56u, n0 + 4u);
    store_block(acc15_0, m0 + 60u, n0 + 0u); store_block(acc15_1, m0 + 60u, n0 + 4u);
}
