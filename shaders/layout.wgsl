// layout: data movement between the layouts the products need: the im2col / col2im that turn
// 2-D convolutions into matrix products (src/ops/conv.rs), the swaps between NCHW maps and rows,
// and matrix transposes (src/ops/matmul.rs transposes a stored A^T for its big tiles).
// Geometry (NCHW): input [N, C, H, W], kernel KH x KW, stride (SH, SW), padding (PH, PW),
// output OH x OW. The column matrix has one row per output pixel (n, oh, ow) and one column per
// kernel tap (c, i, j): col[(n*OH + oh)*OW + ow, (c*KH + i)*KW + j] = x[n, c, oh*SH - PH + i, ow*SW - PW + j]
// (zero in the padding). Conv forward is then col . W^T, its weight gradient dY^T . col, and its
// input gradient col2im(dY . W); transposed convolution runs the same three the other way round.
// Entry points (bindings 1 src, 2 dst):
//   im2col      dst = col(src)             one invocation per (output pixel, channel, kernel row)
//   im2col_kw4  the same when KW == 4: one invocation per (output pixel, channel), each kernel
//               row one vec4 store (binding 4 dst4)
//   col2im      dst = acc*dst + sum of the col entries each input pixel feeds (a gather, so no
//               atomics)                                one invocation per input element
//   taps_by_phase  a weight [R, C*KH*KW] with each channel's taps reordered (i, j) ->
//               (i/2, j/2, i%2, j%2), for col2im_s2     one invocation per element
//   col2im_s2   col2im for stride 2 and even kernels from columns in taps_by_phase order: one
//               invocation per 2x2 block of input pixels, one vec4 load per column row it reads
//               (bindings 3 src4, 5 dst_after4)
//   transpose_matrix  dst[j, i] = src[i, j] for src [H, W] (rows = h, columns = w), one
//               invocation per element (2-D grid)
//   col2im_s2_k4  col2im_s2 for 4x4 kernels, unrolled (same bindings)
//   swap_last   dst[b, j, i] = acc*dst + src[b, i, j] for src [B, R, C] (NCHW <-> [N, HW, C])
//   swap_last4  the same when R % 4 == 0 and C % 4 == 0, one 4x4 block per invocation through the
//               vec4 views (bindings 3 src4, 4 dst4): 4 + 4 vector accesses instead of 16 + 16
//               scalar ones, and on llvmpipe each access is a loop over the lanes.
//   swap_rows4  the same when only R % 4 == 0: 4 scalar loads down a column, one vec4 store
//   swap_cols4  the same when only C % 4 == 0: one vec4 load along a row, 4 scalar stores
//               (bindings 3 src4, 5 dst_after4)

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

fn accumulate_after4(i: u32, v: f32) {
    if (p.acc != 0.0) { dst_after4[i] = p.acc * dst_after4[i] + v; } else { dst_after4[i] = v; }
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

// KW == 4: a channel's KH kernel rows are KH vec4s of the column matrix. Per float this pays a
// quarter of im2col's stores and a sixth of its integer divisions, which llvmpipe runs one lane
// at a time; the taps' columns are clamped into the row and zeroed by select, so no tap branches.
@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn im2col_kw4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= p.n * p.oh * p.ow * p.c) { return; }
    let c = e % p.c;
    let row = e / p.c;
    let ox = row % p.ow;
    let rest = row / p.ow;
    let oy = rest % p.oh;
    let n = rest / p.oh;
    let xs = vec4<i32>(i32(ox * p.sw) - i32(p.pw)) + vec4<i32>(0, 1, 2, 3);
    let in_row = xs >= vec4<i32>(0) & xs < vec4<i32>(i32(p.w));
    let xc = vec4<u32>(clamp(xs, vec4<i32>(0), vec4<i32>(i32(p.w) - 1)));
    let y0 = i32(oy * p.sh) - i32(p.ph);
    let plane = (n * p.c + c) * p.h;
    let out = (row * p.c + c) * p.kh;
    for (var i = 0u; i < p.kh; i++) {
        let y = y0 + i32(i);
        var v = vec4<f32>();
        if (y >= 0 && y < i32(p.h)) {
            let base = (plane + u32(y)) * p.w;
            v = select(vec4<f32>(), vec4<f32>(src[base + xc.x], src[base + xc.y], src[base + xc.z], src[base + xc.w]), in_row);
        }
        dst4[out + i] = v;
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
fn taps_by_phase(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // src [n, c, kh, kw] -> dst with each (row, channel)'s kh*kw taps in (i/2, j/2, i%2, j%2)
    // order; kh and kw even. e indexes src.
    let e = flat(gid, groups);
    if (e >= p.n * p.c * p.kh * p.kw) { return; }
    let j = e % p.kw;
    let i = (e / p.kw) % p.kh;
    let block = e - i * p.kw - j;
    dst[block + ((i / 2u) * (p.kw / 2u) + j / 2u) * 4u + (i % 2u) * 2u + j % 2u] = src[e];
}

// The 2x2 blocks of input pixels col2im_s2 / col2im_s2_k4 gather, one per invocation: image n,
// channel c, block (by, bx) with y + PH in {2by, 2by + 1}. Blocks cover y + PH from PH to
// H + PH - 1, and likewise x.
struct PixelBlock {
    n: u32,
    c: u32,
    by: u32,
    bx: u32,
}

// Blocks per plane, down then across.
fn blocks_hw() -> vec2<u32> {
    return (vec2<u32>(p.h + p.ph, p.w + p.pw) + 1u) / 2u - vec2<u32>(p.ph, p.pw) / 2u;
}

fn pixel_block_count() -> u32 {
    let hw = blocks_hw();
    return p.n * p.c * hw.x * hw.y;
}

fn pixel_block(e: u32) -> PixelBlock {
    let hw = blocks_hw();
    let rest = e / hw.y;
    let plane = rest / hw.x;
    return PixelBlock(plane / p.c, plane % p.c, p.ph / 2u + rest % hw.x, p.pw / 2u + e % hw.y);
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn col2im_s2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // With stride 2, input pixel (y, x) with y + PH = 2by + ri, x + PW = 2bx + rj (ri, rj in
    // {0, 1}) receives from column row (oy, ox) = (by - qi, bx - qj) the tap (2qi + ri, 2qj + rj).
    // So the 2x2 pixels of block (by, bx) read the same rows, and in taps_by_phase order their
    // four taps of each row are one vec4: a quarter of col2im's load loops, and its index
    // arithmetic paid once per four pixels.
    let e = flat(gid, groups);
    if (e >= pixel_block_count()) { return; }
    let b = pixel_block(e);
    let qh = p.kh / 2u;
    let qw = p.kw / 2u;
    let taps4 = p.c * qh * qw;
    var sum = vec4<f32>(0.0);
    for (var qi = 0u; qi < qh && qi <= b.by; qi++) {
        let oy = b.by - qi;
        if (oy >= p.oh) { continue; }
        for (var qj = 0u; qj < qw && qj <= b.bx; qj++) {
            let ox = b.bx - qj;
            if (ox >= p.ow) { continue; }
            sum += src4[((b.n * p.oh + oy) * p.ow + ox) * taps4 + (b.c * qh + qi) * qw + qj];
        }
    }
    let plane = (b.n * p.c + b.c) * p.h;
    for (var ri = 0u; ri < 2u; ri++) {
        let ty = 2u * b.by + ri;
        if (ty < p.ph || ty - p.ph >= p.h) { continue; }
        for (var rj = 0u; rj < 2u; rj++) {
            let tx = 2u * b.bx + rj;
            if (tx < p.pw || tx - p.pw >= p.w) { continue; }
            accumulate_after4((plane + ty - p.ph) * p.w + tx - p.pw, sum[ri * 2u + rj]);
        }
    }
}

// col2im_s2 for 4x4 kernels (two taps per phase each way), unrolled. llvmpipe masks every
// write of a loop-carried variable and divides lane by lane; here the four column rows a block
// reads are loaded at clamped addresses and dropped by select, with no loop at all.
@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn col2im_s2_k4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e >= pixel_block_count()) { return; }
    let b = pixel_block(e);
    // Column rows (oy, ox) = (by - qi, bx - qj) for qi, qj in {0, 1}: component .x holds q = 0,
    // .y holds q = 1.
    let oy = vec2<i32>(i32(b.by)) - vec2<i32>(0, 1);
    let ox = vec2<i32>(i32(b.bx)) - vec2<i32>(0, 1);
    let in_y = oy >= vec2<i32>(0) & oy < vec2<i32>(i32(p.oh));
    let in_x = ox >= vec2<i32>(0) & ox < vec2<i32>(i32(p.ow));
    let oyc = vec2<u32>(clamp(oy, vec2<i32>(0), vec2<i32>(i32(p.oh) - 1)));
    let oxc = vec2<u32>(clamp(ox, vec2<i32>(0), vec2<i32>(i32(p.ow) - 1)));
    let taps4 = p.c * 4u;
    let row0 = (b.n * p.oh + oyc.x) * p.ow;
    let row1 = (b.n * p.oh + oyc.y) * p.ow;
    let zero = vec4<f32>();
    var sum = select(zero, src4[(row0 + oxc.x) * taps4 + b.c * 4u], in_y.x && in_x.x);
    sum += select(zero, src4[(row0 + oxc.y) * taps4 + b.c * 4u + 1u], in_y.x && in_x.y);
    sum += select(zero, src4[(row1 + oxc.x) * taps4 + b.c * 4u + 2u], in_y.y && in_x.x);
    sum += select(zero, src4[(row1 + oxc.y) * taps4 + b.c * 4u + 3u], in_y.y && in_x.y);
    // Pixel (2by + ri - PH, 2bx + rj - PW) takes sum[2ri + rj].
    let ys = vec2<i32>(i32(2u * b.by) - i32(p.ph)) + vec2<i32>(0, 1);
    let xs = vec2<i32>(i32(2u * b.bx) - i32(p.pw)) + vec2<i32>(0, 1);
    let out_y = ys >= vec2<i32>(0) & ys < vec2<i32>(i32(p.h));
    let out_x = xs >= vec2<i32>(0) & xs < vec2<i32>(i32(p.w));
    let plane = (b.n * p.c + b.c) * p.h;
    if (out_y.x && out_x.x) { accumulate_after4((plane + u32(ys.x)) * p.w + u32(xs.x), sum.x); }
    if (out_y.x && out_x.y) { accumulate_after4((plane + u32(ys.x)) * p.w + u32(xs.y), sum.y); }
    if (out_y.y && out_x.x) { accumulate_after4((plane + u32(ys.y)) * p.w + u32(xs.x), sum.z); }
    if (out_y.y && out_x.y) { accumulate_after4((plane + u32(ys.y)) * p.w + u32(xs.y), sum.w); }
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
        accumulate_after4((b * p.w + cb * 4u + c) * p.h + i, v[c]);
    }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn transpose_matrix(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let row = gid.y;
    if (row >= p.h || col >= p.w) { return; }
    dst[col * p.h + row] = src[row * p.w + col];
}
