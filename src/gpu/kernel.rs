//! Kernel descriptions and their compilation. Rust is the single source of truth for everything
//! a shader shares with its launcher: the workgroup size, the variant switches and tile sizes,
//! the codes it switches on and its `struct Params` are written into a prelude that is prepended
//! to the WGSL file, so the shader cannot disagree with the launcher (a mismatch would silently
//! skip the tail of a tensor or read another field's bytes). `reflect` re-reads the compiled
//! module to check it, and lists the bindings the entry point really uses.

use crate::error::{Error, Result};
use crate::gpu::params::{check_struct, wgsl_struct, ParamField};

/// One entry point of one WGSL file.
#[derive(Debug, Clone, Copy)]
pub struct Kernel {
    /// File stem under `shaders/`, e.g. "matmul".
    pub family: &'static str,
    pub source: &'static str,
    pub entry: &'static str,
    /// Written into the prelude as `WG_X`, `WG_Y`, `WG_Z`; the shader must use them.
    pub workgroup: [u32; 3],
    /// Names of the `u32` constants every instantiation must define (variant switches).
    pub defines: &'static [&'static str],
    /// Fixed geometry written into the prelude as `u32` constants (tile sizes): the launcher
    /// computes its grid from the same numbers the shader indexes with.
    pub consts: &'static [(&'static str, u32)],
    /// The fields of the Rust parameter struct (`GpuParams::FIELDS`): the prelude declares the
    /// WGSL `struct Params` from them, and `reflect` checks the struct at binding 0 against them.
    pub params: &'static [ParamField],
    /// Codes the shader switches on (`gpu_codes!` enums' `WGSL` lists): `u32` constants in the
    /// prelude.
    pub codes: &'static [&'static [(&'static str, u32)]],
}

/// A concrete set of values for a kernel's `defines`, in the same order.
pub type Defines<'a> = &'a [u32];

impl Kernel {
    /// An entry point with no defines or constants; add them with struct update syntax.
    pub const fn new(
        family: &'static str,
        source: &'static str,
        entry: &'static str,
        workgroup: [u32; 3],
        params: &'static [ParamField],
    ) -> Kernel {
        Kernel { family, source, entry, workgroup, defines: &[], consts: &[], params, codes: &[] }
    }

    pub fn invocations_per_workgroup(&self) -> u32 {
        self.workgroup.iter().product()
    }

    /// The value of one of `consts`; a kernel without it is a programming error caught by tests.
    pub fn constant(&self, name: &str) -> u32 {
        self.consts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| panic!("kernel {} has no constant {name}", self.entry), |(_, v)| *v)
    }

    /// The full WGSL text of one instantiation: generated prelude, then the file.
    pub fn wgsl(&self, defines: Defines) -> Result<String> {
        if defines.len() != self.defines.len() {
            return Err(Error::new(format!(
                "kernel {}::{} takes defines {:?}, got {} values",
                self.family,
                self.entry,
                self.defines,
                defines.len()
            )));
        }
        let [x, y, z] = self.workgroup;
        let mut text = format!(
            "// prelude written by src/gpu/kernel.rs\nconst WG_X: u32 = {x}u;\nconst WG_Y: u32 = {y}u;\nconst WG_Z: u32 = {z}u;\nconst WG_SIZE: u32 = {}u;\n",
            x * y * z
        );
        let codes = self.codes.iter().flat_map(|c| c.iter()).map(|(n, v)| (n, v));
        for (name, value) in self
            .defines
            .iter()
            .zip(defines)
            .chain(self.consts.iter().map(|(n, v)| (n, v)))
            .chain(codes)
        {
            text.push_str(&format!("const {name}: u32 = {value}u;\n"));
        }
        if !self.params.is_empty() {
            text.push_str(&wgsl_struct("Params", self.params));
        }
        text.push_str(self.source);
        Ok(text)
    }

    pub fn label(&self, defines: Defines) -> String {
        let values: Vec<String> =
            self.defines.iter().zip(defines).map(|(n, v)| format!("{n}={v}")).collect();
        format!("{}::{}[{}]", self.family, self.entry, values.join(","))
    }
}

/// What the compiled entry point uses, read back from naga.
#[derive(Debug, Clone)]
pub struct Reflection {
    /// Whether binding 0 (the per-dispatch uniform parameters) is used.
    pub uses_params: bool,
    /// Storage bindings used by the entry point, ascending; tensors are passed in this order.
    pub storage_bindings: Vec<u32>,
    /// Byte size of the uniform parameter struct, when used.
    pub params_size: Option<u32>,
}

/// Parses and validates one instantiation with naga, checks the workgroup size and returns the
/// bindings the entry point uses. Needs no GPU.
pub fn reflect(kernel: &Kernel, defines: Defines) -> Result<Reflection> {
    let text = kernel.wgsl(defines)?;
    let label = kernel.label(defines);
    let module = naga::front::wgsl::parse_str(&text).map_err(|e| {
        Error::new(format!("{label}: WGSL parse error: {}", e.emit_to_string(&text)))
    })?;
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default() | naga::valid::Capabilities::SUBGROUP,
    )
    .validate(&module)
    .map_err(|e| {
        Error::new(format!("{label}: WGSL validation error: {}", e.emit_to_string(&text)))
    })?;
    let (index, entry) = module
        .entry_points
        .iter()
        .enumerate()
        .find(|(_, ep)| ep.name == kernel.entry)
        .ok_or_else(|| Error::new(format!("{label}: no entry point named {}", kernel.entry)))?;
    if entry.workgroup_size != kernel.workgroup {
        return Err(Error::new(format!(
            "{label}: shader workgroup size {:?} differs from the launcher's {:?}; use WG_X/WG_Y/WG_Z",
            entry.workgroup_size, kernel.workgroup
        )));
    }
    let uses = info.get_entry_point(index);
    let mut reflection =
        Reflection { uses_params: false, storage_bindings: Vec::new(), params_size: None };
    for (handle, var) in module.global_variables.iter() {
        if uses[handle].is_empty() {
            continue;
        }
        let Some(binding) = &var.binding else {
            continue;
        };
        if binding.group != 0 {
            return Err(Error::new(format!("{label}: only bind group 0 is used by the runtime")));
        }
        match var.space {
            naga::AddressSpace::Uniform if binding.binding == 0 => {
                check_struct(&module, var.ty, kernel.params).map_err(|e| {
                    Error::new(format!("{label}: params struct differs from its Rust mirror: {e}"))
                })?;
                reflection.uses_params = true;
                reflection.params_size = Some(module.types[var.ty].inner.size(module.to_ctx()));
            }
            naga::AddressSpace::Storage { .. } if binding.binding > 0 => {
                reflection.storage_bindings.push(binding.binding)
            }
            _ => {
                return Err(Error::new(format!(
                    "{label}: binding {} must be the uniform params (0) or storage (1..)",
                    binding.binding
                )))
            }
        }
    }
    reflection.storage_bindings.sort_unstable();
    Ok(reflection)
}
