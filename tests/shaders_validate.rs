//! Every WGSL file parses and validates with naga for every instantiation the runtime launches,
//! its workgroup size matches the launcher's, and every file under shaders/ is covered. No GPU.

use infogan::gpu::kernel::reflect;
use infogan::ops::all_kernels;

#[test]
fn every_kernel_instantiation_validates() {
    let mut checked = 0;
    for (kernel, instantiations) in all_kernels() {
        for defines in instantiations {
            let reflection = reflect(kernel, &defines).unwrap_or_else(|e| panic!("{e}"));
            assert!(reflection.uses_params, "{} must read its params", kernel.label(&defines));
            assert!(!reflection.storage_bindings.is_empty());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} instantiations checked");
}

#[test]
fn every_shader_file_has_launchers() {
    let families: std::collections::BTreeSet<&str> = all_kernels().iter().map(|(k, _)| k.family).collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    for entry in std::fs::read_dir(dir).expect("shaders/ exists") {
        let path = entry.expect("readable").path();
        if path.extension().and_then(|e| e.to_str()) == Some("wgsl") {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
            assert!(families.contains(stem), "shaders/{stem}.wgsl has no kernel in ops::all_kernels()");
        }
    }
}

#[test]
fn a_shader_that_ignores_the_launcher_workgroup_size_is_rejected() {
    let mut kernel = *all_kernels()[0].0;
    kernel.workgroup = [7, 1, 1];
    let defines = vec![0; kernel.defines.len()];
    // The prelude follows the launcher, so the shader still agrees; a literal size would not.
    reflect(&kernel, &defines).expect("prelude-driven size agrees");
    let source = kernel.source.replace("@workgroup_size(WG_X, WG_Y, WG_Z)", "@workgroup_size(8, 8, 1)");
    kernel.source = Box::leak(source.into_boxed_str());
    let error = reflect(&kernel, &defines).expect_err("literal workgroup size must be caught");
    assert!(error.message().contains("workgroup size"), "{error}");
}

/// The kernel's WGSL with its params struct edited by `edit` (applied to the struct's text only).
fn with_params_struct(kernel: &infogan::gpu::Kernel, edit: impl Fn(&str) -> String) -> infogan::gpu::Kernel {
    let start = kernel.source.find("struct Params {").expect("a params struct");
    let end = start + kernel.source[start..].find('}').expect("closed");
    let source = format!("{}{}{}", &kernel.source[..start], edit(&kernel.source[start..end]), &kernel.source[end..]);
    infogan::gpu::Kernel { source: Box::leak(source.into_boxed_str()), ..*kernel }
}

#[test]
fn a_params_struct_that_differs_from_its_rust_mirror_is_rejected() {
    // Adam's struct: n u32, lr f32, beta1 f32, beta2 f32, eps f32, bc1 f32, bc2 f32, _pad u32.
    let kernel = &infogan::ops::adam::ADAM;
    reflect(kernel, &[]).expect("the shipped struct matches");
    // Each edit leaves a valid shader whose struct no longer mirrors the Rust one.
    let renamed = infogan::gpu::Kernel { source: Box::leak(kernel.source.replace("beta2", "beta_two").into_boxed_str()), ..*kernel };
    let cases = [
        ("renamed", renamed, "field 3 is `beta_two`"),
        ("reordered", with_params_struct(kernel, |s| s.replace("beta1: f32,\n    beta2: f32,", "beta2: f32,\n    beta1: f32,")), "field 2 is `beta2`"),
        ("retyped", with_params_struct(kernel, |s| s.replace("_pad: u32", "_pad: f32")), "`_pad` is not a u32"),
        ("truncated", with_params_struct(kernel, |s| s.replace("    _pad: u32,\n", "")), "ends before field 7 `_pad`"),
    ];
    for (what, edited, expected) in cases {
        let error = reflect(&edited, &[]).expect_err(what);
        assert!(error.message().contains(expected), "{what}: {error}");
    }
}

#[test]
fn tile_sizes_reach_the_shader_through_the_prelude() {
    for kernel in [&infogan::ops::matmul::REGISTER_TILE, &infogan::ops::matmul::SUBGROUP_TILE, &infogan::ops::matmul::REGISTER_TILE_SMALL, &infogan::ops::matmul::WORKGROUP_TILE] {
        let text = kernel.wgsl(&vec![0; kernel.defines.len()]).expect("instantiates");
        for name in ["TILE_M", "TILE_N"] {
            let value = kernel.constant(name);
            assert!(text.contains(&format!("const {name}: u32 = {value}u;")), "{}: {name} not in the prelude", kernel.entry);
        }
        let body = &kernel.source[kernel.source.find(&format!("fn {}(", kernel.entry)).expect("entry")..];
        assert!(body.contains("TILE_M") && body.contains("TILE_N"), "{} must index with the prelude's tile", kernel.entry);
    }
}
