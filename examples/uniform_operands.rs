// How much faster would the subgroup tile run if its loads were cheap? (dev tool, lavapipe)
//
// llvmpipe loads from a storage buffer one lane at a time, each float behind an exec-mask test
// and a bounds-check branch; from a uniform buffer it gathers without branches. Uniform buffers
// are capped at 64 KiB there, so the real products cannot use them, but a probe can: the same
// WGSL as shaders/matmul_subgroup.wgsl at [64 x 256] . [256 x 64] (each operand exactly 64 KiB),
// with A and/or B read from a uniform copy. 512 workgroups repeat the tile down the rows of one
// tall product, and every workgroup stores its tile (a probe whose stores are skipped measures
// less than it computes: LLVM sinks straight-line work into the skipped branches).
// Prints the process CPU time per run for S (both storage), UA, UB and UAB, alternated.
use wgpu::util::DeviceExt;

use infogan::bench::process_cpu_ms;
use infogan::ops::matmul::SUBGROUP_TILE;

const M: u32 = 64;
const K: u32 = 256;
const N: u32 = 64;
const GROUPS: u32 = 512;

/// The kernel as the project compiles it (prelude included, TRANS_B = 0), with A (`a4`) and/or
/// B (`b4`) read from 64 KiB uniform arrays instead.
fn variant_wgsl(uniform_a: bool, uniform_b: bool) -> Result<String, Box<dyn std::error::Error>> {
    let mut text = SUBGROUP_TILE.wgsl(&[0])?.replace(
        "var<storage, read_write> c4: array<vec4<f32>>;",
        "var<storage, read_write> c4: array<vec4<f32>>;\n\
         @group(0) @binding(5) var<uniform> au: array<vec4<f32>, 4096>;\n\
         @group(0) @binding(6) var<uniform> bu: array<vec4<f32>, 4096>;",
    );
    if uniform_a {
        text = text.replace("a4[", "au[");
    }
    if uniform_b {
        text = text.replace("b4[", "bu[");
    }
    Ok(text)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    println!("{}", adapter.get_info().name);
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_features: wgpu::Features::SUBGROUP,
        ..Default::default()
    }))?;
    let a: Vec<f32> = (0..M * K).map(|i| (i * 37 % 101) as f32 / 101.0 - 0.5).collect();
    let b: Vec<f32> = (0..K * N).map(|i| (i * 53 % 97) as f32 / 97.0 - 0.5).collect();
    let buffer = |bytes: &[u8], usage| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: None, contents: bytes, usage })
    };
    let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let uniform = wgpu::BufferUsages::UNIFORM;
    // The storage copy of A repeats the block down all rows; the uniform copy holds one block
    // (the index clamp naga adds keeps the other rows' reads inside it: other values, same cost).
    let a_tall: Vec<f32> = a.iter().copied().cycle().take((M * K * GROUPS) as usize).collect();
    let (a_storage, b_storage) = (buffer(bytemuck::cast_slice(&a_tall), storage), buffer(bytemuck::cast_slice(&b), storage));
    let (a_uniform, b_uniform) = (buffer(bytemuck::cast_slice(&a), uniform), buffer(bytemuck::cast_slice(&b), uniform));
    let bias = buffer(bytemuck::cast_slice(&vec![0f32; N as usize]), storage);
    let c = buffer(bytemuck::cast_slice(&vec![0f32; (M * GROUPS * N) as usize]), storage);
    // matmul.rs's Params: m, n, k, has_bias, alpha, acc, six words of padding.
    let params: [u32; 12] = [M * GROUPS, N, K, 0, 1f32.to_bits(), 0, 0, 0, 0, 0, 0, 0];
    let params = buffer(bytemuck::cast_slice(&params), uniform);
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: u64::from(M * N * 4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });

    let variants = [("S", false, false), ("UA", true, false), ("UB", false, true), ("UAB", true, true)];
    let mut prepared = Vec::new();
    for (name, uniform_a, uniform_b) in variants {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(variant_wgsl(uniform_a, uniform_b)?.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module: &module,
            entry_point: Some("matmul_subgroup_tile"),
            compilation_options: Default::default(),
            cache: None,
        });
        let a_binding = if uniform_a { (5, &a_uniform) } else { (1, &a_storage) };
        let b_binding = if uniform_b { (6, &b_uniform) } else { (2, &b_storage) };
        let entries: Vec<wgpu::BindGroupEntry> = [(0, &params), a_binding, b_binding, (3, &bias), (4, &c)]
            .into_iter()
            .map(|(binding, buffer)| wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() })
            .collect();
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(name),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        prepared.push((name, pipeline, bind_group));
    }

    let run = |pipeline: &wgpu::ComputePipeline, bind_group: &wgpu::BindGroup| -> Result<(), wgpu::PollError> {
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind_group, &[]);
            pass.dispatch_workgroups(1, GROUPS, 1);
        }
        queue.submit([encoder.finish()]);
        device.poll(wgpu::PollType::wait_indefinitely()).map(|_| ())
    };
    let gflop = 2.0 * f64::from(M * N * K) * f64::from(GROUPS) / 1e9;
    for round in 0..5 {
        for (name, pipeline, bind_group) in &prepared {
            run(pipeline, bind_group)?;
            // The first tile of each variant's C against an f64 product, so a broken substitution
            // cannot pass.
            let mut encoder = device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(&c, 0, &readback, 0, u64::from(M * N * 4));
            queue.submit([encoder.finish()]);
            readback.slice(..).map_async(wgpu::MapMode::Read, |_| {});
            device.poll(wgpu::PollType::wait_indefinitely())?;
            let got: Vec<f32> = bytemuck::cast_slice(&readback.slice(..).get_mapped_range()?).to_vec();
            readback.unmap();
            let mut max_error = 0f64;
            for i in 0..M as usize {
                for j in 0..N as usize {
                    let want: f64 = (0..K as usize).map(|t| f64::from(a[i * K as usize + t]) * f64::from(b[t * N as usize + j])).sum();
                    max_error = max_error.max((want - f64::from(got[i * N as usize + j])).abs());
                }
            }
            let start = process_cpu_ms().ok_or("no process CPU clock on this platform")?;
            for _ in 0..5 {
                run(pipeline, bind_group)?;
            }
            let cpu = (process_cpu_ms().ok_or("no process CPU clock on this platform")? - start) / 5.0;
            println!("round {round} {name:<4} {cpu:7.1} CPU ms per run  {:6.2} GFLOP per CPU-second  max error {max_error:.1e}", gflop / cpu * 1e3);
        }
    }
    Ok(())
}
