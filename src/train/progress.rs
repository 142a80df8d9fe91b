//! The live view of a run: a progress bar with ETA and the latest bounds on a terminal, plain
//! lines (one per logged step) when the output is a file or a pipe.

use indicatif::{ProgressBar, ProgressStyle};

use crate::train::trainer::StepMetrics;

pub struct Progress {
    bar: ProgressBar,
    total: u64,
}

impl Progress {
    pub fn new(first: u64, total: u64) -> Progress {
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta}  {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_position(first);
        bar.reset_eta();
        Progress { bar, total }
    }

    pub fn update(&mut self, step: u64, m: &StepMetrics) {
        let bounds = format!(
            "B_GAN {:+.3}  L_I_cat {:.3}  L_I_cont {:+.3}  D(x) {:.2}  D(G(z)) {:.2}  {:.1} samples/s",
            m.b_gan, m.l_i_cat, m.l_i_cont, m.d_real[0], m.d_fake[0], m.samples_per_s
        );
        self.bar.set_position(step);
        if self.bar.is_hidden() {
            println!("step {step:>6}/{}  {bounds}", self.total);
        } else {
            self.bar.set_message(bounds);
        }
    }

    /// A line above the bar (or on its own when there is no bar).
    pub fn note(&self, line: &str) {
        if self.bar.is_hidden() {
            println!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish();
    }
}
