//! What Rust and WGSL share, declared once in Rust: the uniform parameter struct each kernel
//! reads at binding 0 (`gpu_params!`, which records its fields, name and scalar type in order)
//! and the codes a kernel switches on (`gpu_codes!`). The kernel prelude writes the WGSL
//! `struct Params` and the codes' constants from these declarations (`kernel::Kernel::wgsl`), so a
//! shader file holds kernels only. `kernel::reflect` still compares the struct naga parsed with
//! the Rust field list, as a safety net for the generator itself.
//!
//! Every field is one 4-byte scalar, so field `i` sits at byte `4 * i` in both languages and the
//! struct needs no implicit padding; explicit `_padN` fields round it to 16 bytes (uniform rules).

/// The scalar type of one parameter field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    U32,
    I32,
    F32,
}

impl ScalarKind {
    pub fn wgsl(self) -> &'static str {
        match self {
            ScalarKind::U32 => "u32",
            ScalarKind::I32 => "i32",
            ScalarKind::F32 => "f32",
        }
    }
}

/// A Rust scalar that a parameter field may hold.
pub trait Scalar {
    const KIND: ScalarKind;
}

impl Scalar for u32 {
    const KIND: ScalarKind = ScalarKind::U32;
}
impl Scalar for i32 {
    const KIND: ScalarKind = ScalarKind::I32;
}
impl Scalar for f32 {
    const KIND: ScalarKind = ScalarKind::F32;
}

/// One field of a parameter struct, in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamField {
    pub name: &'static str,
    pub kind: ScalarKind,
}

/// A `#[repr(C)]` struct of 4-byte scalars that mirrors a WGSL `struct Params`.
pub trait GpuParams: bytemuck::Pod {
    const FIELDS: &'static [ParamField];
}

/// Declares a parameter struct (`#[repr(C)]`, `Pod`) and its field list for the reflection check.
#[macro_export]
macro_rules! gpu_params {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ident),* $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
        #[allow(dead_code)] // written on the host, read by the shader
        $vis struct $name { $($(#[$fmeta])* $fvis $field: $ty),* }

        impl $crate::gpu::params::GpuParams for $name {
            const FIELDS: &'static [$crate::gpu::params::ParamField] = &[
                $($crate::gpu::params::ParamField { name: stringify!($field), kind: <$ty as $crate::gpu::params::Scalar>::KIND }),*
            ];
        }
    };
}

/// The WGSL declaration of a parameter struct with these fields.
pub fn wgsl_struct(name: &str, fields: &[ParamField]) -> String {
    let mut text = format!("struct {name} {{\n");
    for field in fields {
        text.push_str(&format!("    {}: {},\n", field.name, field.kind.wgsl()));
    }
    text.push_str("}\n");
    text
}

/// Declares an enum of codes a kernel switches on (`#[repr(u32)]`, numbered from 0 in order),
/// each variant with the name of its WGSL constant; `Enum::WGSL` lists (name, value) for the
/// kernel prelude and `code()` gives the value to put in the params.
#[macro_export]
macro_rules! gpu_codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wgsl:literal),* $(,)? }) => {
        $(#[$meta])*
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            /// Every variant's WGSL constant and value, in order.
            pub const WGSL: &'static [(&'static str, u32)] = &[$(($wgsl, $name::$variant as u32)),*];

            /// The value the shader compares with.
            pub const fn code(self) -> u32 {
                self as u32
            }
        }
    };
}

/// Compares a WGSL uniform struct (as naga parsed it) with the Rust field list; the error names
/// the first field that differs.
pub fn check_struct(
    module: &naga::Module,
    ty: naga::Handle<naga::Type>,
    fields: &[ParamField],
) -> Result<(), String> {
    let naga::TypeInner::Struct { members, .. } = &module.types[ty].inner else {
        return Err("binding 0 is not a struct".into());
    };
    for (i, field) in fields.iter().enumerate() {
        let Some(member) = members.get(i) else {
            return Err(format!(
                "the WGSL struct ends before field {i} `{}` of the Rust struct",
                field.name
            ));
        };
        let name = member.name.as_deref().unwrap_or("?");
        if name != field.name {
            return Err(format!("field {i} is `{name}` in WGSL but `{}` in Rust", field.name));
        }
        if member.offset != 4 * i as u32 {
            return Err(format!(
                "field `{name}` is at byte {} in WGSL but {} in Rust",
                member.offset,
                4 * i
            ));
        }
        let kind = match module.types[member.ty].inner {
            naga::TypeInner::Scalar(naga::Scalar { kind: naga::ScalarKind::Uint, width: 4 }) => {
                Some(ScalarKind::U32)
            }
            naga::TypeInner::Scalar(naga::Scalar { kind: naga::ScalarKind::Sint, width: 4 }) => {
                Some(ScalarKind::I32)
            }
            naga::TypeInner::Scalar(naga::Scalar { kind: naga::ScalarKind::Float, width: 4 }) => {
                Some(ScalarKind::F32)
            }
            _ => None,
        };
        if kind != Some(field.kind) {
            return Err(format!(
                "field `{name}` is not a {} in WGSL, as it is in Rust",
                field.kind.wgsl()
            ));
        }
    }
    if members.len() > fields.len() {
        let extra = members[fields.len()].name.as_deref().unwrap_or("?");
        return Err(format!("the WGSL struct has field `{extra}` past the end of the Rust struct"));
    }
    Ok(())
}
