// gather: the real images of a training step, picked on the GPU from a dataset uploaded once.
// Entry point:
//   gather_images   out[i, :] = pixels[order[first + i], :] / 255 * scale + shift
//                   (bindings 1 pixels, 2 order, 3 out); scale 1, shift 0 keep [0, 1] exactly,
//                   scale 2, shift -1 give the [-1, 1] of a tanh generator
// pixels holds each image's bytes packed four to a u32 (little-endian), `words` u32 per image;
// order is the epoch's permutation of image indices. One invocation per output word (4 pixels).

fn unpack(byte: u32) -> f32 {
    return f32(byte) / 255.0 * p.scale + p.shift;
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn gather_images(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WG_X;
    if (i >= p.count * p.words) {
        return;
    }
    let image = i / p.words;
    let word = i % p.words;
    let packed = pixels[order[p.first + image] * p.words + word];
    let at = (image * p.words + word) * 4u;
    out[at] = unpack(packed & 0xffu);
    out[at + 1u] = unpack((packed >> 8u) & 0xffu);
    out[at + 2u] = unpack((packed >> 16u) & 0xffu);
    out[at + 3u] = unpack(packed >> 24u);
}
