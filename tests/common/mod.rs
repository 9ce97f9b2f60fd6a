//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Drives a future to completion. The mocks and virtual chips are always ready, so this
/// returns after the first poll; it is the async twin's harness in every test file.
pub fn block_on<F: core::future::Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    loop {
        if let core::task::Poll::Ready(o) = f.as_mut().poll(&mut cx) {
            return o;
        }
    }
}

/// The identity: the blocking twin's "driver" in the blocking/async test macros.
pub fn id<X>(x: X) -> X {
    x
}

/// The voltage an ADBMS6830 reports for `uv`: nearest multiple of 150 µV above 1.5 V
/// (adi.md §6.5: code × 150 µV + 1.5 V), written independently of the crate's conversion.
pub fn quantised(uv: i32) -> i32 {
    let d = i64::from(uv) - 1_500_000;
    let q = if d >= 0 {
        (d + 75) / 150
    } else {
        (d - 75) / 150
    };
    (q * 150 + 1_500_000) as i32
}
