// conv: the data movement that turns 2-D convolutions into matrix products (src/ops/conv.rs).
// Geometry (NCHW): input [N, C, H, W], kernel KH x KW, stride (SH, SW), padding (PH, PW),
// output OH x OW. The column matrix has one row per output pixel (n, oh, ow) and one column per
// kernel tap (c, i, j): col[(n*OH + oh)*OW + ow, (c*KH + i)*KW + j] = x[n, c, oh*SH - PH + i, ow*SW - PW + j]
// (zero in the padding). Conv forward is then col . W^T, its weight gradient dY^T . col, and its
// input gradient col2im(dY . W); transposed convolution runs the same three the other way round.
// Entry points (bindings 1 src, 2 dst):
//   im2col      dst = col(src)             one invocation per (output pixel, channel, kernel row)
//   col2im      dst = acc*dst + sum of the col entries each input pixel feeds (a gather, so no
//               atomics)                                one invocation per input element
//   swap_last   dst[b, j, i] = acc*dst + src[b, i, j] for src [B, R, C] (NCHW <-> [N, HW, C])
//   swap_last4  the same when R % 4 == 0 and C % 4 == 0, one 4x4 block per invocation through the
//               vec4 views (bindings 3 src4, 4 dst4): 4 + 4 vector accesses instead of 16 + 16
//               scalar ones, and on llvmpipe each access is a loop over the lanes.
//   swap_rows4  the same when only R % 4 == 0: 4 scalar loads down a column, one vec4 store
//   swap_cols4  the same when only C % 4 == 0: one vec4 load along a row, 4 scalar stores
//               (bindings 3 src4, 5 dst_after4)

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
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dst4: array<vec4<f32>>;
// dst as floats again for an entry that reads src4: tensors bind in ascending binding order.
@group(0) @binding(5) var<storage, read_write> dst_after4: array<f32>;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG_X;
}

fn accumulate(i: u32, v: f32) {
    if (p.acc != 0.0) { dst[i] = p.acc * dst[i] + v; } else { dst[i] = v; }
}

fn accumulate4(i: u32, v: vec4<f32>) {
    if (p.acc != 0.0) { dst4[i] = p.acc * dst4[i] + v; } else { dst4[i] = v; }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // One invocation per (output pixel, channel, kernel row): the KW taps of that row are
    // contiguous in both the input row and the column matrix, so the index arithmetic is paid
    // once per KW values.
    let e = flat(gid, groups);
    if (e >= p.n * p.oh * p.ow * p.c * p.kh) { return; }
    let i = e % p.kh;
    let c = (e / p.kh) % p.c;
    let row = e / (p.kh * p.c);
    let ox = row % p.ow;
    let oy = (row / p.ow) % p.oh;
    let n = row / (p.ow * p.oh);
    let out = row * p.c * p.kh * p.kw + (c * p.kh + i) * p.kw;
    // Signed arithmetic: padding makes the top-left taps negative.
    let y = i32(oy * p.sh + i) - i32(p.ph);
    let x0 = i32(ox * p.sw) - i32(p.pw);
    if (y < 0 || y >= i32(p.h)) {
        for (var j = 0u; j < p.kw; j++) { dst[out + j] = 0.0; }
        return;
    }
    let base = ((n * p.c + c) * p.h + u32(y)) * p.w;
    for (var j = 0u; j < p.kw; j++) {
        let x = x0 + i32(j);
        var v = 0.0;
        if (x >= 0 && x < i32(p.w)) { v = src[base + u32(x)]; }
        dst[out + j] = v;
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn col2im(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.h * p.w) { return; }
    let x = e % p.w;
    let y = (e / p.w) % p.h;
    let c = (e / (p.w * p.h)) % p.c;
    let n = e / (p.w * p.h * p.c);
    let taps = p.c * p.kh * p.kw;
    // Output row oy reads input row y through kernel row i when oy*SH - PH + i == y: only the i
    // congruent to y + PH modulo SH, stepping by SH, and likewise along x.
    let ty = y + p.ph;
    let tx = x + p.pw;
    var sum = 0.0;
    for (var i = ty % p.sh; i < p.kh && i <= ty; i += p.sh) {
        let oy = (ty - i) / p.sh;
        if (oy >= p.oh) { continue; }
        for (var j = tx % p.sw; j < p.kw && j <= tx; j += p.sw) {
            let ox = (tx - j) / p.sw;
            if (ox >= p.ow) { continue; }
            let row = (n * p.oh + oy) * p.ow + ox;
            sum += src[row * taps + (c * p.kh + i) * p.kw + j];
        }
    }
    accumulate(e, sum);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn swap_last(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // src [n, h, w] -> dst [n, w, h]; e indexes dst.
    let e = flat(gid, groups);
    if (e >= p.n * p.h * p.w) { return; }
    let r = e % p.h;
    let cidx = (e / p.h) % p.w;
    let b = e / (p.h * p.w);
    accumulate(e, src[(b * p.h + r) * p.w + cidx]);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn swap_last4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // e indexes 4x4 blocks in dst order, so neighbouring invocations write neighbouring vec4s.
    let e = flat(gid, groups);
    let rows4 = p.h / 4u;
    let cols4 = p.w / 4u;
    if (e >= p.n * rows4 * cols4) { return; }
    let rb = e % rows4;
    let cb = (e / rows4) % cols4;
    let b = e / (rows4 * cols4);
    // Column r of `block` is src row 4rb + r, columns 4cb .. 4cb + 3.
    let at = ((b * p.h + rb * 4u) * p.w + cb * 4u) / 4u;
    let block = mat4x4<f32>(src4[at], src4[at + cols4], src4[at + 2u * cols4], src4[at + 3u * cols4]);
    let t = transpose(block);
    for (var c = 0u; c < 4u; c++) {
        let i = ((b * p.w + cb * 4u + c) * p.h + rb * 4u) / 4u;
        accumulate4(i, t[c]);
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn swap_rows4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // e indexes dst's vec4s: (b, column j, rows 4rb .. 4rb + 3).
    let e = flat(gid, groups);
    let rows4 = p.h / 4u;
    if (e >= p.n * p.w * rows4) { return; }
    let rb = e % rows4;
    let j = (e / rows4) % p.w;
    let b = e / (rows4 * p.w);
    let at = (b * p.h + rb * 4u) * p.w + j;
    let v = vec4<f32>(src[at], src[at + p.w], src[at + 2u * p.w], src[at + 3u * p.w]);
    accumulate4(e, v);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn swap_cols4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // e indexes src's vec4s: (b, row i, columns 4cb .. 4cb + 3); neighbours take neighbouring rows.
    let e = flat(gid, groups);
    let cols4 = p.w / 4u;
    if (e >= p.n * p.h * cols4) { return; }
    let i = e % p.h;
    let cb = (e / p.h) % cols4;
    let b = e / (p.h * cols4);
    let v = src4[(b * p.h + i) * cols4 + cb];
    for (var c = 0u; c < 4u; c++) {
        let at = (b * p.w + cb * 4u + c) * p.h + i;
        if (p.acc != 0.0) { dst_after4[at] = p.acc * dst_after4[at] + v[c]; } else { dst_after4[at] = v[c]; }
    }
}
