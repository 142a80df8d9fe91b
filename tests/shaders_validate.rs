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
