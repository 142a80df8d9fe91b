//! Every kernel instantiation the runtime can launch, translated by naga into the language of
//! each backend wgpu drives: SPIR-V (Vulkan), MSL (Metal), HLSL (DX12) and GLSL (OpenGL), at the
//! versions wgpu targets for compute. A failure names the kernel and the backend. No GPU.
//!
//! The subgroup tile needs subgroup operations: SPIR-V 1.3, MSL 2.1, HLSL shader model 6.0, and
//! GL_KHR_shader_subgroup in GLSL. wgpu's OpenGL backend does not offer subgroups, so there the
//! adapter must never be given that variant; the last test checks the choice on the adapters
//! this machine has.

use infogan::gpu::kernel::Kernel;
use infogan::ops::all_kernels;

/// The module of one instantiation, validated with the capabilities it may use.
fn module(kernel: &Kernel, defines: &[u32]) -> (naga::Module, naga::valid::ModuleInfo, bool) {
    let text = kernel.wgsl(defines).unwrap_or_else(|e| panic!("{e}"));
    let module = naga::front::wgsl::parse_str(&text)
        .unwrap_or_else(|e| panic!("{}: {}", kernel.label(defines), e.emit_to_string(&text)));
    let subgroups = text.contains("subgroup");
    let caps = naga::valid::Capabilities::default()
        | if subgroups {
            naga::valid::Capabilities::SUBGROUP
        } else {
            naga::valid::Capabilities::empty()
        };
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
        .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
        .subgroup_operations(naga::valid::SubgroupOperationSet::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", kernel.label(defines), e.emit_to_string(&text)));
    (module, info, subgroups)
}

fn spirv(
    kernel: &Kernel,
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
    subgroups: bool,
) -> Result<(), String> {
    let options = naga::back::spv::Options {
        lang_version: if subgroups { (1, 3) } else { (1, 0) },
        ..Default::default()
    };
    let pipeline = naga::back::spv::PipelineOptions {
        shader_stage: naga::ShaderStage::Compute,
        entry_point: kernel.entry.into(),
    };
    naga::back::spv::write_vec(module, info, &options, Some(&pipeline))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn msl(
    kernel: &Kernel,
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
    subgroups: bool,
) -> Result<(), String> {
    let options = naga::back::msl::Options {
        lang_version: if subgroups { (2, 1) } else { (2, 0) },
        fake_missing_bindings: true,
        ..Default::default()
    };
    let pipeline = naga::back::msl::PipelineOptions {
        entry_point: Some((naga::ShaderStage::Compute, kernel.entry.into())),
        ..Default::default()
    };
    naga::back::msl::write_string(module, info, &options, &pipeline)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn hlsl(
    kernel: &Kernel,
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
    subgroups: bool,
) -> Result<(), String> {
    let shader_model = if subgroups {
        naga::back::hlsl::ShaderModel::V6_0
    } else {
        naga::back::hlsl::ShaderModel::V5_1
    };
    let options = naga::back::hlsl::Options {
        shader_model,
        fake_missing_bindings: true,
        ..Default::default()
    };
    let pipeline = naga::back::hlsl::PipelineOptions {
        entry_point: Some((naga::ShaderStage::Compute, kernel.entry.into())),
    };
    let mut out = String::new();
    naga::back::hlsl::Writer::new(&mut out, &options, &pipeline)
        .write(module, info, None)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn glsl(
    kernel: &Kernel,
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
    version: naga::back::glsl::Version,
) -> Result<(), String> {
    let options = naga::back::glsl::Options { version, ..Default::default() };
    let pipeline = naga::back::glsl::PipelineOptions {
        shader_stage: naga::ShaderStage::Compute,
        entry_point: kernel.entry.into(),
        multiview: None,
    };
    let mut out = String::new();
    let mut writer = naga::back::glsl::Writer::new(
        &mut out,
        module,
        info,
        &options,
        &pipeline,
        naga::proc::BoundsCheckPolicies::default(),
    )
    .map_err(|e| e.to_string())?;
    writer.write().map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn every_kernel_translates_to_every_backend() {
    let mut failures = Vec::new();
    let mut translated = 0;
    for (kernel, instantiations) in all_kernels() {
        for defines in instantiations {
            let (module, info, subgroups) = module(kernel, &defines);
            let label = kernel.label(&defines);
            let results = [
                ("SPIR-V (Vulkan)", spirv(kernel, &module, &info, subgroups)),
                ("MSL (Metal)", msl(kernel, &module, &info, subgroups)),
                ("HLSL (DX12)", hlsl(kernel, &module, &info, subgroups)),
                // wgpu's GL backend writes desktop GLSL at the driver's version (capped at 4.50)
                // or GLSL ES 3.10+; compute needs 4.30 or ES 3.10.
                (
                    "GLSL 4.30 (OpenGL)",
                    glsl(kernel, &module, &info, naga::back::glsl::Version::Desktop(430)),
                ),
                (
                    "GLSL ES 3.10 (OpenGL ES)",
                    glsl(
                        kernel,
                        &module,
                        &info,
                        naga::back::glsl::Version::Embedded { version: 310, is_webgl: false },
                    ),
                ),
            ];
            for (backend, result) in results {
                match result {
                    Ok(()) => translated += 1,
                    Err(e) => failures.push(format!("{label} to {backend}: {e}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} translations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(translated >= 5 * 60, "only {translated} translations");
}

#[test]
fn adapters_without_subgroups_never_get_the_subgroup_variant() {
    let instance = infogan::gpu::adapter::instance();
    let adapters = infogan::gpu::adapter::all_adapters(&instance);
    let mut checked = 0;
    for adapter in &adapters {
        let info = adapter.get_info();
        if !adapter.features().contains(wgpu::Features::SUBGROUP) {
            assert!(
                !infogan::Variant::SubgroupTile.runs_on(adapter),
                "{} ({:?}) has no subgroups",
                info.name,
                info.backend
            );
            assert_ne!(
                infogan::Variant::for_adapter(adapter),
                infogan::Variant::SubgroupTile,
                "{} ({:?})",
                info.name,
                info.backend
            );
            checked += 1;
        }
    }
    println!("{} adapters, {checked} without subgroups checked", adapters.len());
}
