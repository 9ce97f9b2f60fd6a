//! The bench runner: modes, case registry plumbing, measurement and the output format.
//!
//! Modes (from the command line cargo gives the binary):
//!
//! | invocation | mode |
//! |---|---|
//! | `cargo bench` (cargo passes `--bench`) | full measurement |
//! | `cargo test --all-targets` (no `--bench`) | quick: few iterations, checks every case runs |
//! | `hot_paths --list` | one line per case: `<case> <per> <units> <bytes_on_wire or ->` |
//! | `hot_paths --callgrind <case> <K>` | runs exactly `K` iterations of one case, nothing else timed |
//!
//! Every case is first run once untimed and must make no heap allocation (checked with the
//! counting allocator in [`alloc`]; a case that allocates stops the run).
//!
//! Any other argument is a substring filter on case names (`cargo bench -- pec15`).
//!
//! Output, one line per case: `bench <case> cycles=<n> <per>=<value>` and, for cases that move
//! bytes over a (replay) bus, ` bytes_on_wire=<n>`. `cycles` is per iteration, the minimum over
//! many timed batches divided by the batch size.

pub mod alloc;
pub mod cycles;
pub mod mock;

use core::hint::black_box;

use cycles::CycleCounter;
pub use mock::WireCount;

/// The unit a case's cost is divided by.
#[derive(Clone, Copy)]
pub struct Per {
    label: &'static str,
    units: u32,
}

impl Per {
    /// Per byte of input (integrity codes).
    pub const fn byte(n: u32) -> Self {
        Self {
            label: "per_byte",
            units: n,
        }
    }
    /// Per cell voltage delivered (read paths).
    pub const fn cell(n: u32) -> Self {
        Self {
            label: "per_cell",
            units: n,
        }
    }
    /// Per register group / device frame verified.
    pub const fn group(n: u32) -> Self {
        Self {
            label: "per_group",
            units: n,
        }
    }
    /// Per device of a chain (configuration builds).
    pub const fn device(n: u32) -> Self {
        Self {
            label: "per_device",
            units: n,
        }
    }
    /// Per iteration (the harness baseline).
    pub const fn iter() -> Self {
        Self {
            label: "per_iter",
            units: 1,
        }
    }
    /// Per frame built.
    pub const fn frame(n: u32) -> Self {
        Self {
            label: "per_frame",
            units: n,
        }
    }
}

enum Mode {
    Quick,
    Full,
    List,
    Callgrind { case: String, iters: u64 },
}

/// Runs (or lists, or skips) the cases that the registry functions hand it.
pub struct Runner {
    mode: Mode,
    filter: Option<String>,
    counter: cycles::Counter,
    ran: usize,
}

/// Full mode: a batch should last at least this many ticks (the TSC steps in ~26).
const MIN_BATCH_TICKS: u64 = 20_000;
/// Full mode: timed batches per case (the minimum is reported).
const BATCHES: u32 = 300;
/// Quick mode: iterations per batch and batches.
const QUICK_ITERS: u64 = 8;
const QUICK_BATCHES: u32 = 2;

impl Runner {
    /// Reads the mode from the process arguments.
    pub fn from_args() -> Self {
        let mut args = std::env::args().skip(1);
        let mut mode = Mode::Quick;
        let mut filter = None;
        while let Some(a) = args.next() {
            match a.as_str() {
                "--bench" => {
                    if matches!(mode, Mode::Quick) {
                        mode = Mode::Full;
                    }
                }
                "--list" => mode = Mode::List,
                "--callgrind" => {
                    let case = args.next().expect("--callgrind <case> <iterations>");
                    let iters = args
                        .next()
                        .and_then(|k| k.parse().ok())
                        .expect("--callgrind <case> <iterations>");
                    mode = Mode::Callgrind { case, iters };
                }
                s if s.starts_with('-') => {} // e.g. libtest flags from `cargo test -- --nocapture`
                s => filter = Some(s.to_owned()),
            }
        }
        Self {
            mode,
            filter,
            counter: cycles::Counter::default(),
            ran: 0,
        }
    }

    /// Header line (full mode only).
    pub fn header(&self) {
        if let Mode::Full = self.mode {
            println!(
                "# counter: {}; minimum over {BATCHES} batches of >= {MIN_BATCH_TICKS} ticks",
                <cycles::Counter as CycleCounter>::NAME
            );
        }
    }

    /// Whether a case of this name runs in this invocation (lets a registry function skip
    /// expensive setup; never required).
    pub fn wants(&self, name: &str) -> bool {
        match &self.mode {
            Mode::Callgrind { case, .. } => case == name,
            _ => self.filter.as_deref().is_none_or(|f| name.contains(f)),
        }
    }

    /// A case that only computes: `f` is one iteration; its result is black-boxed.
    #[inline(never)]
    pub fn case<R>(&mut self, name: &str, per: Per, f: impl FnMut() -> R) {
        self.run(name, per, None, f);
    }

    /// A case that moves bytes over a replay bus counting into `wire`: also prints
    /// `bytes_on_wire`, the bytes one iteration moves.
    #[inline(never)]
    pub fn bus_case<R>(
        &mut self,
        name: &str,
        per: Per,
        wire: &WireCount,
        mut f: impl FnMut() -> R,
    ) {
        if !self.wants(name) {
            return;
        }
        // One iteration to count the bytes the case moves (and to warm caches).
        wire.set(0);
        black_box(f());
        let bytes = wire.get();
        self.run(name, per, Some(bytes), f);
    }

    fn run<R>(&mut self, name: &str, per: Per, bytes: Option<usize>, mut f: impl FnMut() -> R) {
        if !self.wants(name) {
            return;
        }
        self.ran += 1;
        // One iteration outside the timing: it must not touch the heap.
        let before = alloc::allocations();
        black_box(f());
        let allocated = alloc::allocations() - before;
        assert_eq!(
            allocated, 0,
            "{name}: one iteration made {allocated} heap allocations"
        );
        let wire = bytes
            .map(|b| format!(" bytes_on_wire={b}"))
            .unwrap_or_default();
        match &self.mode {
            Mode::List => {
                let b = bytes.map_or_else(|| "-".to_owned(), |b| b.to_string());
                println!("{name} {} {} {b}", per.label, per.units);
            }
            Mode::Callgrind { iters, .. } => {
                for _ in 0..*iters {
                    black_box(f());
                }
            }
            Mode::Quick => {
                let t = self.min_batch(&mut f, QUICK_ITERS, QUICK_BATCHES);
                self.print(name, per, t as f64 / QUICK_ITERS as f64, &wire);
            }
            Mode::Full => {
                // Calibrate: double the batch until it spans MIN_BATCH_TICKS.
                let mut iters = 1u64;
                while iters < (1 << 24) && self.min_batch(&mut f, iters, 3) < MIN_BATCH_TICKS {
                    iters *= 2;
                }
                let t = self.min_batch(&mut f, iters, BATCHES);
                self.print(name, per, t as f64 / iters as f64, &wire);
            }
        }
    }

    /// Minimum over `batches` of the ticks taken by `iters` back-to-back iterations.
    #[inline(always)]
    fn min_batch<R>(&self, f: &mut impl FnMut() -> R, iters: u64, batches: u32) -> u64 {
        let mut best = u64::MAX;
        for _ in 0..batches {
            let start = self.counter.now();
            for _ in 0..iters {
                black_box(f());
            }
            let end = self.counter.now();
            best = best.min(self.counter.elapsed(start, end));
        }
        best
    }

    fn print(&self, name: &str, per: Per, cycles: f64, wire: &str) {
        let unit = cycles / f64::from(per.units.max(1));
        println!(
            "bench {name} cycles={} {}={unit:.1}{wire}",
            cycles.round() as u64,
            per.label
        );
    }

    /// Ends the run: a `--callgrind` case name that matched nothing is an error.
    pub fn finish(self) {
        if let Mode::Callgrind { case, .. } = &self.mode {
            if self.ran == 0 {
                eprintln!("no case named {case:?} (see --list)");
                std::process::exit(2);
            }
        }
    }
}
