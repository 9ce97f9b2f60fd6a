//! LTC681x board bring-up: wake, configure (with read-back), MUX and ADC self tests, cell
//! voltages, status (sum of cells, die temperature, supplies), GPIOs, open-wire check and a
//! short balancing check — with a verdict per step and, on failure, what to check on the
//! board.
//!
//! ```text
//! cargo run --example ltc681x_bringup --all-features
//!     a virtual chain of 2 × LTC6813 (feature `sim`)
//! cargo run --example ltc681x_bringup --all-features -- --inject-fault
//!     the same with an open sense wire, a MUX fault, a dead cell tap and corrupted frames
//! cargo run --example ltc681x_bringup --all-features -- --spidev /dev/spidev0.0 --part 6813 --devices 2
//!     real hardware (Linux, through an LTC6820 isoSPI bridge; SPI mode 3, 1 MHz)
//! ```
//!
//! Parts: 6810, 6811, 6812, 6813, 1818 (ADBMS1818). Chains of 1, 2, 3, 4, 8 or 16 devices.
//! On hardware the balancing step is skipped unless `--balance` is given.

use std::process::ExitCode;

use bms_afe::error::{Error, FaultReason};
use bms_afe::io::Blocking;
use bms_afe::ltc681x::command::{AdcMode, SelfTest};
use bms_afe::ltc681x::{Adbms1818, Ltc681x, Ltc6810, Ltc6811, Ltc6812, Ltc6813, Variant};
use bms_afe::monitor::{CellMonitor, ChainReport, ConversionMode, Reading};
use bms_afe::units::MicroVolts;
use embedded_hal::delay::DelayNs;
use embedded_hal::spi::SpiDevice;

struct Options {
    spidev: Option<String>,
    part: String,
    devices: usize,
    inject: bool,
    balance: bool,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        spidev: None,
        part: "6813".into(),
        devices: 2,
        inject: false,
        balance: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--spidev" => o.spidev = Some(args.next().ok_or("--spidev needs a path")?),
            "--part" => o.part = args.next().ok_or("--part needs 6810|6811|6812|6813|1818")?,
            "--devices" => {
                o.devices = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--devices needs a number")?
            }
            "--inject-fault" => o.inject = true,
            "--balance" => o.balance = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// What to check on the board for an error.
fn hint<E: core::fmt::Debug>(e: &Error<E>, devices: usize) -> String {
    match e {
        Error::Bus(b) => format!(
            "SPI bus error {b:?}: check the spidev path, permissions (group spi) and that SPI is enabled"
        ),
        Error::Integrity(f) => match f.reason {
            FaultReason::NoResponse if f.device == 0 => {
                "device 0 does not answer: check the LTC6820 (power, POL/PHA = mode 3, MSTR high), \
                 the isoSPI cable to the first monitor, the monitor's supply (V+ / VREG), and that \
                 the chip select reaches the LTC6820"
                    .into()
            }
            FaultReason::NoResponse => format!(
                "device {d} does not answer: check the isoSPI link between device {p} and {d} \
                 (IPB/IMB of {p} to IPA/IMA of {d}), device {d}'s supply, and that --devices {devices} \
                 matches the chain",
                d = f.device,
                p = f.device - 1
            ),
            _ => format!(
                "device {}: {} — noise on the isoSPI link: check twisted pair, 120 Ω \
                 terminations, transformer orientation, SPI clock ≤ 1 MHz",
                f.device, f.reason
            ),
        },
        Error::Verify(m) => format!(
            "device {} {} byte {} wrote {:#04x}, read {:#04x}: the device resets or another \
             master writes; check its supply and the watchdog (≤ 2 s between commands)",
            m.device, m.register, m.offset, m.expected, m.actual
        ),
        Error::Timeout(what) => {
            format!("{what}: an ADC never finished — check VREG/VREF1/VREF2 capacitors")
        }
        other => other.to_string(),
    }
}

fn volts(v: MicroVolts) -> String {
    format!("{:.4} V", f64::from(v.0) / 1e6)
}

fn show<T: Copy>(r: Reading<T>, f: impl Fn(T) -> String) -> String {
    match r {
        Reading::Valid(v) => f(v),
        Reading::NotConverted => "not converted".into(),
        Reading::Failed(x) => format!("FAILED ({})", x.reason),
    }
}

struct Run {
    failures: usize,
    devices: usize,
}

impl Run {
    fn step<E: core::fmt::Debug>(&mut self, name: &str, r: Result<ChainReport, Error<E>>) -> bool {
        match r {
            Ok(rep) if rep.is_ok() => {
                println!("  ✓ {name}");
                true
            }
            Ok(rep) => {
                self.failures += 1;
                println!("  ✗ {name}: {rep}");
                if let Some(f) = rep.first_fault {
                    println!("      → {}", hint::<E>(&Error::Integrity(f), self.devices));
                }
                true
            }
            Err(e) => {
                self.failures += 1;
                println!("  ✗ {name}: {e}");
                println!("      → {}", hint(&e, self.devices));
                false
            }
        }
    }
}

fn bringup<V: Variant, const N: usize, B: SpiDevice, D: DelayNs>(
    bms: &mut Ltc681x<V, N, Blocking<B, D>>,
    balance: bool,
) -> usize {
    let mut run = Run {
        failures: 0,
        devices: N,
    };
    println!(
        "\nLTC681x bring-up: {N} × {} ({} cells)\n",
        V::NAME,
        N * V::CELLS
    );

    // 1. Wake and configure.
    let ok = run.step("wake chain", bms.wake().map(|_| ChainReport::OK));
    if !ok {
        return run.failures;
    }
    let uv = bms
        .set_undervoltage(MicroVolts(3_000_000))
        .unwrap_or_default();
    let ov = bms
        .set_overvoltage(MicroVolts(4_200_000))
        .unwrap_or_default();
    bms.set_refon(true);
    let ok = run.step(
        &format!(
            "configuration written and read back (UV {}, OV {}, REFON)",
            volts(uv),
            volts(ov)
        ),
        bms.write_config_verified().map(|_| ChainReport::OK),
    );
    if !ok {
        println!("\n  stopping: without a working configuration nothing else is meaningful");
        return run.failures;
    }

    // 2. Diagnostics of the chip itself.
    let mut pass = [Reading::NotConverted; N];
    if run.step("MUX decoder check (DIAGN)", bms.mux_test(&mut pass)) {
        for (d, p) in pass.iter().enumerate() {
            if *p == Reading::Valid(false) {
                run.failures += 1;
                println!("      ✗ device {d}: MUXFAIL — replace or check the part");
            }
        }
    }
    let mut masks = [Reading::NotConverted; N];
    if run.step(
        "cell ADC self test (CVST 1)",
        bms.self_test_cells(AdcMode::Normal, SelfTest::One, &mut masks),
    ) {
        for (d, m) in masks.iter().enumerate() {
            if let Reading::Valid(m) = m {
                if *m != 0 {
                    run.failures += 1;
                    println!(
                        "      ✗ device {d}: cells {m:#b} read the wrong pattern — digital filter fault"
                    );
                }
            }
        }
    }

    // 3. Cells.
    let mut cells = [[Reading::NotConverted; 18]; N];
    let flat = cells.as_flattened_mut();
    let cells_flat = &mut flat[..N * V::CELLS];
    if run.step(
        "cell voltages (7 kHz)",
        CellMonitor::measure_cells(bms, ConversionMode::Normal, cells_flat),
    ) {
        println!("\n    dev │ min      │ max      │ mean     │ cells (V)");
        for (d, chunk) in cells_flat.chunks(V::CELLS).enumerate() {
            let v: Vec<i32> = chunk
                .iter()
                .filter_map(|c| c.valid())
                .map(|m| m.0)
                .collect();
            let row: Vec<String> = chunk
                .iter()
                .map(|c| show(*c, |m| format!("{:.3}", f64::from(m.0) / 1e6)))
                .collect();
            if v.is_empty() {
                println!("    {d:>3} │ no valid cells │ {}", row.join(" "));
                continue;
            }
            let mean = v.iter().map(|&x| i64::from(x)).sum::<i64>() / v.len() as i64;
            println!(
                "    {d:>3} │ {:.4} V │ {:.4} V │ {:.4} V │ {}",
                f64::from(*v.iter().min().unwrap_or(&0)) / 1e6,
                f64::from(*v.iter().max().unwrap_or(&0)) / 1e6,
                mean as f64 / 1e6,
                row.join(" ")
            );
            if v.iter().any(|&x| x < 500_000) {
                println!(
                    "        ⚠ a cell below 0.5 V: check the cell tap wiring / connector of device {d}"
                );
            }
        }
        println!();
    }

    // 4. Status.
    let mut st = [Reading::NotConverted; N];
    if run.step(
        "status (sum of cells, die temperature, VA, VD)",
        bms.measure_status(AdcMode::Normal, &mut st),
    ) {
        for (d, s) in st.iter().enumerate() {
            let Reading::Valid(s) = s else { continue };
            let va = s.a.va.valid().map_or(0, |v| v.0);
            let vd = s.b.vd.valid().map_or(0, |v| v.0);
            println!(
                "    device {d}: SC {}, die {}, VA {}{}, VD {}{}, rev {}",
                show(s.a.sum_of_cells, volts),
                show(s.a.die_temperature, |t| format!(
                    "{:.1} °C",
                    f64::from(t.0) / 1000.0
                )),
                show(s.a.va, volts),
                if (4_500_000..=5_500_000).contains(&va) {
                    ""
                } else {
                    " ⚠ outside 4.5–5.5 V"
                },
                show(s.b.vd, volts),
                if (2_700_000..=3_600_000).contains(&vd) {
                    ""
                } else {
                    " ⚠ outside 2.7–3.6 V"
                },
                s.b.revision
            );
        }
    }

    // 5. GPIOs and the second reference.
    let mut aux = [[Reading::NotConverted; 10]; N];
    let aux_flat = &mut aux.as_flattened_mut()[..N * V::AUX_CHANNELS];
    if run.step(
        "GPIO / second reference",
        bms.measure_aux(AdcMode::Normal, aux_flat),
    ) {
        for (d, chunk) in aux_flat.chunks(V::AUX_CHANNELS).enumerate() {
            let row: Vec<String> = chunk.iter().map(|c| show(*c, volts)).collect();
            println!("    device {d}: {}", row.join(", "));
        }
        println!("    (register order; REF2 must read 2.990–3.014 V)");
    }

    // 6. Open wire.
    let mut ow = [Reading::NotConverted; N];
    if run.step(
        "open-wire check (ADOW, data-sheet −400 mV rule)",
        bms.open_wire(AdcMode::Normal, 2, &mut ow),
    ) {
        for (d, m) in ow.iter().enumerate() {
            if let Reading::Valid(m) = m {
                for w in 0..=V::CELLS {
                    if m >> w & 1 != 0 {
                        run.failures += 1;
                        println!(
                            "      ✗ device {d}: sense wire C{w} open — check that tap, its fuse/resistor and connector"
                        );
                    }
                }
            }
        }
    }

    // 7. Balancing.
    if balance {
        let mut masks = [0u32; N];
        masks.iter_mut().for_each(|m| *m = 1);
        run.step(
            "balancing switch on (cell 1 of every device)",
            CellMonitor::set_balancing(bms, &masks).map(|_| ChainReport::OK),
        );
        let mut back = [Reading::NotConverted; N];
        if run.step("balancing read back", bms.read_config(&mut back)) {
            for (d, c) in back.iter().enumerate() {
                if let Reading::Valid(c) = c {
                    println!("    device {d}: DCC {:#b}", c.dcc);
                }
            }
        }
        run.step(
            "balancing off",
            CellMonitor::set_balancing(bms, &[0; N]).map(|_| ChainReport::OK),
        );
    } else {
        println!("  – balancing skipped (pass --balance)");
    }

    println!(
        "\n{}",
        if run.failures == 0 {
            "ALL CHECKS PASSED".to_string()
        } else {
            format!("{} CHECK(S) FAILED — see the hints above", run.failures)
        }
    );
    run.failures
}

macro_rules! dispatch {
    ($part:expr, $n:expr, $balance:expr, |$bms:ident : $V:ident, $N:ident| $make:expr) => {{
        macro_rules! with_n {
            ($VV:ty) => {
                match $n {
                    1 => {
                        type $V = $VV;
                        const $N: usize = 1;
                        let mut $bms = $make;
                        bringup(&mut $bms, $balance)
                    }
                    2 => {
                        type $V = $VV;
                        const $N: usize = 2;
                        let mut $bms = $make;
                        bringup(&mut $bms, $balance)
                    }
                    3 => {
                        type $V = $VV;
                        const $N: usize = 3;
                        let mut $bms = $make;
                        bringup(&mut $bms, $balance)
                    }
                    4 => {
                        type $V = $VV;
                        const $N: usize = 4;
                        let mut $bms = $make;
                        bringup(&mut $bms, $balance)
                    }
                    8 => {
                        type $V = $VV;
                        const $N: usize = 8;
                        let mut $bms = $make;
                        bringup(&mut $bms, $balance)
                    }
                    16 => {
                        type $V = $VV;
                        const $N: usize = 16;
                        let mut $bms = $make;
                        bringup(&mut $bms, $balance)
                    }
                    other => {
                        eprintln!("--devices {other}: supported are 1, 2, 3, 4, 8, 16");
                        1
                    }
                }
            };
        }
        match $part {
            "6810" => with_n!(Ltc6810),
            "6811" => with_n!(Ltc6811),
            "6812" => with_n!(Ltc6812),
            "6813" => with_n!(Ltc6813),
            "1818" => with_n!(Adbms1818),
            other => {
                eprintln!("--part {other}: supported are 6810, 6811, 6812, 6813, 1818");
                1
            }
        }
    }};
}

#[cfg(feature = "sim")]
fn run_sim(o: &Options) -> usize {
    use bms_afe::sim::ltc681x::Ltc681xChain;
    use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
    println!("(virtual chain — pass --spidev /dev/spidev0.0 for hardware)");
    dispatch!(o.part.as_str(), o.devices, true, |bms: V, N| {
        // Leaked so the handles outlive this match arm without a heap-free dance.
        let sim: &'static Sim<Ltc681xChain<V, N>> =
            Box::leak(Box::new(Sim::new(Ltc681xChain::new())));
        sim.with(|c| {
            for d in 0..N {
                for k in 0..V::CELLS {
                    c.set_cell_voltage(d, k, 3_650_000 + ((d * 7 + k * 13) % 40) as i32 * 1_000);
                }
                c.set_temperature(d, 28_000 + d as i32 * 500);
            }
            if o.inject {
                // An open sense wire and a MUX fault on the farthest device, a dead cell tap,
                // and two corrupted frames that the driver's retries absorb.
                c.inject(InjectedFault::OpenWire {
                    device: (N - 1) as u8,
                    wire: 3,
                });
                c.set_mux_fault(N - 1, true);
                c.set_cell_voltage(0, 5, 300_000);
                c.inject(InjectedFault::CorruptResponses {
                    device: 0,
                    seed: 7,
                    frames: 2,
                });
            }
        });
        Ltc681x::<V, N, _>::new(Blocking::new(sim.spi(), sim.delay()))
    })
}

#[cfg(target_os = "linux")]
fn run_hw(o: &Options, path: &str) -> usize {
    use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
    use linux_embedded_hal::{Delay, SpidevDevice};
    println!("(hardware: {path})");
    let mut spi = match SpidevDevice::open(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "cannot open {path}: {e}\n  → is SPI enabled (dtparam=spi=on) and do you have access (group spi)?"
            );
            return 1;
        }
    };
    let opts = SpidevOptions::new()
        .bits_per_word(8)
        .max_speed_hz(1_000_000)
        .mode(SpiModeFlags::SPI_MODE_3)
        .build();
    if let Err(e) = spi.configure(&opts) {
        eprintln!("cannot configure {path}: {e}");
        return 1;
    }
    let spi = std::cell::Cell::new(Some(spi));
    dispatch!(o.part.as_str(), o.devices, o.balance, |bms: V, N| {
        let dev = spi.take().expect("the SPI device is used once");
        Ltc681x::<V, N, _>::new(Blocking::new(dev, Delay))
    })
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!(
                "usage: ltc681x_bringup [--spidev /dev/spidevX.Y] [--part 6810|6811|6812|6813|1818] \
                 [--devices 1|2|3|4|8|16] [--inject-fault] [--balance]"
            );
            return ExitCode::from(2);
        }
    };
    let failures = match &o.spidev {
        #[cfg(target_os = "linux")]
        Some(path) => run_hw(&o, path),
        #[cfg(not(target_os = "linux"))]
        Some(_) => {
            eprintln!("--spidev needs Linux (linux-embedded-hal)");
            return ExitCode::from(2);
        }
        #[cfg(feature = "sim")]
        None => run_sim(&o),
        #[cfg(not(feature = "sim"))]
        None => {
            eprintln!(
                "the default run uses the virtual chain: build with `--features sim` (or \
                 `--all-features`), or pass --spidev /dev/spidevX.Y for hardware"
            );
            return ExitCode::from(2);
        }
    };
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
