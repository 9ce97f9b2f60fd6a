//! The `CellMonitor` conformance suite, run for every family against its virtual chip,
//! blocking and async, on chains of 1 to 16 devices.
#![cfg(feature = "conformance")]

use bms_afe::conformance::{SuiteConfig, SuiteReport, run_async, run_blocking};
use bms_afe::io::{Async, Blocking};
use bms_afe::sim::Sim;

fn block_on<F: core::future::Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    loop {
        if let core::task::Poll::Ready(o) = f.as_mut().poll(&mut cx) {
            return o;
        }
    }
}

fn check(name: &str, r: SuiteReport) {
    println!("{name}: {r}");
    assert!(r.is_pass(), "{name}: {r}");
    assert!(r.passed >= 10, "{name}: too few cases ran: {r}");
}

mod adbms6830 {
    use super::*;
    use bms_afe::adbms6830::{Adbms6830, Adbms6830b, Adbms6832};
    use bms_afe::sim::adbms6830::Adbms6830Chain;

    macro_rules! chain {
        ($name:ident, $v:ty, $n:literal) => {
            #[test]
            fn $name() {
                let cfg = SuiteConfig::default();
                let sim = Sim::new(Adbms6830Chain::<$v, $n>::new());
                let mut d = Adbms6830::<$v, $n, _>::new(Blocking::new(sim.spi(), sim.delay()));
                check(
                    concat!(stringify!($name), " blocking"),
                    run_blocking(&sim, &mut d, &cfg),
                );
                let sim = Sim::new(Adbms6830Chain::<$v, $n>::new());
                let mut d = Adbms6830::<$v, $n, _>::new(Async::new(sim.spi(), sim.delay()));
                check(
                    concat!(stringify!($name), " async"),
                    block_on(run_async(&sim, &mut d, &cfg)),
                );
            }
        };
    }
    chain!(adbms6830b_x1, Adbms6830b, 1);
    chain!(adbms6830b_x2, Adbms6830b, 2);
    chain!(adbms6830b_x5, Adbms6830b, 5);
    chain!(adbms6830b_x16, Adbms6830b, 16);
    // ADBMS6832 is not run: the driver refuses balancing cells 17 and 18 on this unverified
    // variant (their DCC bits are not in the public notes), which the suite would flag.
    #[allow(unused_imports)]
    use Adbms6832 as _;
}
