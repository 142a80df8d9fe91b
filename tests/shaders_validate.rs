//! Every WGSL file parses and validates with naga for every instantiation the runtime launches,
//! its workgroup size matches the launcher's, and every file under shaders/ is covered. No GPU.

use infogan::gpu::kernel::reflect;
use infogan::gpu::params::{check_struct, ParamField};
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
    let families: std::collections::BTreeSet<&str> =
        all_kernels().iter().map(|(k, _)| k.family).collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    for entry in std::fs::read_dir(dir).expect("shaders/ exists") {
        let path = entry.expect("readable").path();
        if path.extension().and_then(|e| e.to_str()) == Some("wgsl") {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
            assert!(
                families.contains(stem),
                "shaders/{stem}.wgsl has no kernel in ops::all_kernels()"
            );
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
    let source =
        kernel.source.replace("@workgroup_size(WG_X, WG_Y, WG_Z)", "@workgroup_size(8, 8, 1)");
    kernel.source = Box::leak(source.into_boxed_str());
    let error = reflect(&kernel, &defines).expect_err("literal workgroup size must be caught");
    assert!(error.message().contains("workgroup size"), "{error}");
}

#[test]
fn kernels_take_their_params_struct_and_codes_from_rust() {
    // No shader file declares the params struct: the prelude writes it from the Rust fields.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    for entry in std::fs::read_dir(dir).expect("shaders/ exists") {
        let path = entry.expect("readable").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(
            !text.contains("struct Params"),
            "{} declares struct Params by hand",
            path.display()
        );
    }
    let adam = &infogan::ops::adam::ADAM;
    let text = adam.wgsl(&[]).expect("instantiates");
    assert!(
        text.contains(
            "struct Params {\n    n: u32,\n    lr: f32,\n    beta1: f32,\n    beta2: f32,"
        ),
        "{text}"
    );
    // A field renamed in Rust renames it in the kernel: the shader's `p.beta2` no longer exists.
    let renamed: Vec<ParamField> = adam
        .params
        .iter()
        .map(|f| if f.name == "beta2" { ParamField { name: "beta_two", ..*f } } else { *f })
        .collect();
    let edited = infogan::gpu::Kernel { params: Box::leak(renamed.into_boxed_slice()), ..*adam };
    let error = reflect(&edited, &[]).expect_err("the shader reads p.beta2");
    assert!(error.message().contains("beta2"), "{error}");
    // Codes come from the Rust enums the launchers use.
    let unary = infogan::ops::elementwise::UNARY.wgsl(&[]).expect("instantiates");
    for line in [
        "const SCALE: u32 = 0u;",
        "const RELU: u32 = 1u;",
        "const TANH: u32 = 4u;",
        "const ADD: u32 = 0u;",
        "const MUL: u32 = 1u;",
    ] {
        assert!(unary.contains(line), "{line} missing from the prelude");
    }
}

#[test]
fn the_reflection_check_catches_a_struct_that_differs_from_its_rust_mirror() {
    // The safety net behind the generated structs, on hand-written ones: Adam's fields are
    // n u32, lr f32, beta1 f32, beta2 f32, eps f32, bc1 f32, bc2 f32, _pad u32.
    let fields = infogan::ops::adam::ADAM.params;
    let check = |body: &str| -> Result<(), String> {
        let text = format!("struct Params {{\n{body}}}\n@group(0) @binding(0) var<uniform> p: Params;\n@compute @workgroup_size(1) fn main() {{ let x = p.n; }}\n");
        let module = naga::front::wgsl::parse_str(&text).expect("parses");
        let (_, var) = module.global_variables.iter().next().expect("the uniform");
        check_struct(&module, var.ty, fields)
    };
    let shipped = "    n: u32,\n    lr: f32,\n    beta1: f32,\n    beta2: f32,\n    eps: f32,\n    bc1: f32,\n    bc2: f32,\n    _pad: u32,\n";
    check(shipped).expect("the generated layout matches");
    let cases = [
        ("renamed", shipped.replace("beta2", "beta_two"), "field 3 is `beta_two`"),
        (
            "reordered",
            shipped.replace("beta1: f32,\n    beta2: f32,", "beta2: f32,\n    beta1: f32,"),
            "field 2 is `beta2`",
        ),
        ("retyped", shipped.replace("_pad: u32", "_pad: f32"), "`_pad` is not a u32"),
        ("truncated", shipped.replace("    _pad: u32,\n", ""), "ends before field 7 `_pad`"),
    ];
    for (what, body, expected) in cases {
        let error = check(&body).expect_err(what);
        assert!(error.contains(expected), "{what}: {error}");
    }
}

#[test]
fn tile_sizes_reach_the_shader_through_the_prelude() {
    for kernel in [
        &infogan::ops::matmul_tiles::REGISTER_TILE,
        &infogan::ops::matmul_tiles::SUBGROUP_TILE,
        &infogan::ops::matmul_tiles::REGISTER_TILE_SMALL,
        &infogan::ops::matmul_tiles::WORKGROUP_TILE,
    ] {
        let text = kernel.wgsl(&vec![0; kernel.defines.len()]).expect("instantiates");
        for name in ["TILE_M", "TILE_N"] {
            let value = kernel.constant(name);
            assert!(
                text.contains(&format!("const {name}: u32 = {value}u;")),
                "{}: {name} not in the prelude",
                kernel.entry
            );
        }
        let body =
            &kernel.source[kernel.source.find(&format!("fn {}(", kernel.entry)).expect("entry")..];
        assert!(
            body.contains("TILE_M") && body.contains("TILE_N"),
            "{} must index with the prelude's tile",
            kernel.entry
        );
    }
}
