//! isoSPI daisy-chain machinery shared by the ADI families (LTC681x, ADBMS1818, ADBMS6830):
//! command frames with PEC15, per-device data PEC (PEC15 or PEC10 with command counter),
//! chain ordering, and the byte-moving helpers. One implementation, used by both families.
//!
//! # Frames (LTC6812-DS "Data Link Layer", Table 59; ADBMS6830B-DS "Command Format")
//!
//! The short document names are those of the [`ltc681x`](crate::ltc681x#sources) and
//! [`adbms6830`](crate::adbms6830#sources) sources tables (number, revision, URL).
//!
//! * Command: `CMD0 CMD1 PEC0 PEC1` (4 bytes, big-endian, PEC15 over CMD0..1).
//! * Read: the command, then `L` bytes per device (`L − 2` data bytes and a 2-byte data PEC),
//!   **device 0 (nearest the host) first**. One chip-select frame for the whole chain:
//!   `4 + L·N` bytes on the wire (the data sheet minimum).
//! * Write: the command, then each device's data and PEC, **farthest device first** (the chain
//!   is a shift register). This module takes data in host order (index 0 = nearest) and
//!   reverses it for the wire, so the crate has one index convention everywhere.
//!
//! Registers are little-endian 16-bit words inside the group; PECs are big-endian.

use embedded_hal::spi::Operation;

use crate::crc;
use crate::error::{DeviceFault, FaultReason};
use crate::io::SpiIo;
use crate::monitor::{ChainReport, MAX_DEVICES};

/// The 4-byte command frame for an 11-bit command code, PEC included; `const`.
///
/// ```
/// // LTC6804-DS Table 24: WRCFGA = 00 01 3D 6E.
/// assert_eq!(bms_afe::isospi::command(0x001), [0x00, 0x01, 0x3D, 0x6E]);
/// ```
pub const fn command(cc: u16) -> [u8; 4] {
    let cc = cc & 0x07FF;
    let pec = crc::command_pec(cc);
    [(cc >> 8) as u8, cc as u8, (pec >> 8) as u8, pec as u8]
}

/// Declares `pub const NAME: [u8; 4] = command(code);` frames with their docs (each family
/// keeps its own command table: the same code means different things on LTC681x and
/// ADBMS6830: LTC6812-DS Table 36 vs ADBMS6830B-DS Table 50).
macro_rules! commands {
    ($($(#[$m:meta])* $name:ident = $cc:expr;)*) => {
        $( $(#[$m])* pub const $name: [u8; 4] = $crate::isospi::command($cc); )*
    };
}
pub(crate) use commands;

/// Which data PEC a family uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataPec {
    /// PEC15 over the data (LTC6804, LTC681x, ADBMS1818).
    Pec15,
    /// PEC10 over the data and the 6-bit command counter (ADBMS6815/6830/6832/6833).
    Pec10,
}

/// Checks one device's frame (`data ‖ PEC0 PEC1`). Returns the command counter carried in
/// the PEC bytes (always 0 for PEC15) if the PEC is good.
///
/// A frame whose every byte is 0xFF (or 0x00), PEC bytes included, is reported as
/// [`FaultReason::NoResponse`]: nothing drove the bus. Note that an all-0xFF *data* group with
/// its correct PEC (LTC681x "cleared") passes: "not converted" is decided by the decoder.
#[inline]
pub fn verify_frame(frame: &[u8], pec: DataPec) -> Result<u8, FaultReason> {
    // Hot path: the fixed 8-byte register frame of a group read, checked without slicing;
    // the general form below runs only to classify a failure (or for other lengths).
    if let Ok(f) = <&[u8; 8]>::try_from(frame) {
        if let Some(cc) = frame_ok(f, pec) {
            return Ok(cc);
        }
    }
    verify_frame_slow(frame, pec)
}

/// The fixed 8-byte frame check: the counter carried in the frame if its PEC is good.
#[inline(always)]
fn frame_ok(frame: &[u8; 8], pec: DataPec) -> Option<u8> {
    match pec {
        DataPec::Pec15 => crc::pec15_frame_ok(frame).then_some(0),
        DataPec::Pec10 => crc::pec10_frame_ok(frame),
    }
}

/// [`verify_frame`] as [`verify_chain`] runs it, where the frame length is a constant: an
/// 8-byte frame reduces to the table check, with a failure classified out of line.
#[inline(always)]
fn check_frame<const L: usize>(frame: &[u8; L], pec: DataPec) -> Result<u8, FaultReason> {
    if let Ok(f) = <&[u8; 8]>::try_from(frame.as_slice()) {
        return match frame_ok(f, pec) {
            Some(cc) => Ok(cc),
            None => frame_failed(frame, pec),
        };
    }
    verify_frame(frame, pec)
}

/// The rare path of [`check_frame`]: classifies a failed fixed frame. Generic like its
/// caller, so it is compiled where the chain read is instantiated.
#[cold]
#[inline(never)]
fn frame_failed<const L: usize>(frame: &[u8; L], pec: DataPec) -> Result<u8, FaultReason> {
    verify_frame(frame, pec)
}

#[inline]
fn verify_frame_slow(frame: &[u8], pec: DataPec) -> Result<u8, FaultReason> {
    let n = frame.len();
    if n < 3 {
        return Err(FaultReason::Framing);
    }
    let (data, p) = frame.split_at(n - 2);
    let received = u16::from_be_bytes([p[0], p[1]]);
    match pec {
        DataPec::Pec15 => {
            let expected = crc::pec15_group(data);
            if expected == received {
                return Ok(0);
            }
            Err(silence_or(frame, FaultReason::Pec { expected, received }))
        }
        DataPec::Pec10 => {
            let cc = p[0] >> 2;
            let received = received & 0x03FF;
            let expected = crc::pec10_group(data, cc);
            if expected == received {
                return Ok(cc);
            }
            Err(silence_or(frame, FaultReason::Pec { expected, received }))
        }
    }
}

fn silence_or(frame: &[u8], other: FaultReason) -> FaultReason {
    if frame.iter().all(|&b| b == 0xFF) || frame.iter().all(|&b| b == 0x00) {
        FaultReason::NoResponse
    } else {
        other
    }
}

/// Writes `data` (the group's data bytes) and its write PEC into `frame` (`data.len() + 2`
/// bytes). PEC10 writes carry zero command-counter bits (ADBMS6830B-DS Table 42).
pub fn seal_frame(frame: &mut [u8], pec: DataPec) {
    let n = frame.len();
    if n < 2 {
        return;
    }
    let (data, p) = frame.split_at_mut(n - 2);
    let word = match pec {
        DataPec::Pec15 => crc::pec15_group(data),
        DataPec::Pec10 => crc::pec10(data, 0),
    };
    p.copy_from_slice(&word.to_be_bytes());
}

/// Per-device verdicts of one chain read: `Ok(counter)` or the fault.
pub type Verdicts<const N: usize> = [Result<u8, FaultReason>; N];

/// Verifies every device's frame of a chain read (host order, device 0 first).
pub fn verify_chain<const L: usize, const N: usize>(
    frames: &[[u8; L]; N],
    pec: DataPec,
) -> Verdicts<N> {
    let mut out = [Ok(0); N];
    for (o, f) in out.iter_mut().zip(frames) {
        *o = check_frame(f, pec);
    }
    out
}

/// The [`ChainReport`] of a set of verdicts.
pub fn report<const N: usize>(verdicts: &Verdicts<N>) -> ChainReport {
    let mut r = ChainReport::OK;
    for (d, v) in verdicts.iter().enumerate() {
        if let Err(reason) = v {
            r.record(DeviceFault {
                device: d as u8,
                reason: *reason,
            });
        }
    }
    r
}

/// Fills `wire` for a chain write from per-device data in host order (index 0 = nearest the
/// host): device `N − 1` goes first on the wire. `data[d]` holds `L − 2` bytes.
pub fn build_write<const L: usize, const N: usize>(
    data: &[[u8; L]; N],
    pec: DataPec,
    wire: &mut [[u8; L]; N],
) {
    for (w, d) in wire.iter_mut().zip(data.iter().rev()) {
        *w = *d;
        seal_frame(w, pec);
    }
}

/// Sends a command frame alone (conversion starts, clears, MUTE …): one CS frame of 4 bytes.
pub async fn send_command<IO: SpiIo>(io: &mut IO, cmd: &[u8; 4]) -> Result<(), IO::Error> {
    io.transaction(&mut [Operation::Write(cmd)]).await
}

/// One chain read: the command, then `L·N` bytes clocked with 0xFF on MOSI, in one CS frame.
/// `frames` receives device 0's frame first. Not verified: see [`verify_chain`].
pub async fn read_chain<IO: SpiIo, const L: usize, const N: usize>(
    io: &mut IO,
    cmd: &[u8; 4],
    frames: &mut [[u8; L]; N],
) -> Result<(), IO::Error> {
    let flat = frames.as_flattened_mut();
    flat.fill(0xFF);
    io.transaction(&mut [Operation::Write(cmd), Operation::TransferInPlace(flat)])
        .await
}

/// A chain read verified device by device, re-issuing the whole command up to `retries`
/// more times while any device fails. Returns the verdicts of the last attempt.
pub async fn read_verified<IO: SpiIo, const L: usize, const N: usize>(
    io: &mut IO,
    cmd: &[u8; 4],
    frames: &mut [[u8; L]; N],
    pec: DataPec,
    retries: u8,
) -> Result<Verdicts<N>, IO::Error> {
    let mut attempt = 0;
    loop {
        read_chain(io, cmd, frames).await?;
        let v = verify_chain(frames, pec);
        if v.iter().all(Result::is_ok) || attempt >= retries {
            return Ok(v);
        }
        attempt += 1;
    }
}

/// One chain write in one CS frame: the command, then the already built `wire` frames
/// (see [`build_write`]).
pub async fn write_chain<IO: SpiIo, const L: usize, const N: usize>(
    io: &mut IO,
    cmd: &[u8; 4],
    wire: &[[u8; L]; N],
) -> Result<(), IO::Error> {
    io.transaction(&mut [Operation::Write(cmd), Operation::Write(wire.as_flattened())])
        .await
}

/// Wakes a chain of `devices` with one dummy command frame per device (ADI "Method 2": each
/// CS edge is a long isoSPI pulse that wakes the next device), waiting `gap_us` after each
/// (≥ tWAKE from SLEEP or ≥ tREADY from IDLE, and below tIDLE). Dummy frames work through any
/// `SpiDevice`, unlike bare CS toggles (LTC6812-DS "Waking a Daisy Chain").
pub async fn wake_chain<IO: SpiIo>(
    io: &mut IO,
    devices: usize,
    dummy: &[u8; 4],
    gap_us: u32,
) -> Result<(), IO::Error> {
    for _ in 0..devices {
        send_command(io, dummy).await?;
        io.delay_us(gap_us).await;
    }
    Ok(())
}

/// Wakes isoSPI ports that went IDLE (no activity for longer than tIDLE, 4.3 ms minimum on
/// LTC681x and ADBMS6830: LTC6812-DS and ADBMS6830B-DS electrical tables, tIDLE) while the cores stayed up: one dummy frame per
/// device, `ready_us` (≥ tREADY, 10 µs max) apart. A frame reaching an idle port only wakes
/// it and is lost there, so each frame gets one port further up the chain. `dummy` should be
/// a read command that does not move any counter (RDCFGA on both families).
pub async fn wake_idle<IO: SpiIo>(
    io: &mut IO,
    devices: usize,
    dummy: &[u8; 4],
    ready_us: u32,
) -> Result<(), IO::Error> {
    wake_chain(io, devices, dummy, ready_us).await
}

/// Waits `wait_us`; if the wait reaches `idle_min_us` (the minimum tIDLE) the ports may have
/// gone IDLE, and are woken with [`wake_idle`] so the next command is not lost.
pub async fn settle<IO: SpiIo>(
    io: &mut IO,
    wait_us: u32,
    idle_min_us: u32,
    devices: usize,
    dummy: &[u8; 4],
    ready_us: u32,
) -> Result<(), IO::Error> {
    io.delay_us(wait_us).await;
    if wait_us >= idle_min_us {
        wake_idle(io, devices, dummy, ready_us).await?;
    }
    Ok(())
}

/// Polls an ADC with a poll command (PLADC and kin): each attempt is one CS frame sending the
/// command and clocking `status_bytes` bytes; the conversion is done when the last byte reads
/// 0xFF (SDO is held low while any device is busy; valid after N clocks on LTC681x, 2·N on
/// ADBMS6830). Returns the number of poll commands sent (each increments an ADBMS command
/// counter). Bounded: at most `max_polls` attempts, `interval_us` apart.
pub async fn poll_done<IO: SpiIo>(
    io: &mut IO,
    cmd: &[u8; 4],
    status_bytes: usize,
    max_polls: u32,
    interval_us: u32,
) -> Result<Option<u32>, IO::Error> {
    let mut sent = 0;
    poll_done_counted(io, cmd, status_bytes, max_polls, interval_us, &mut sent).await
}

/// [`poll_done`] that also reports, in `sent`, how many poll frames completed on the bus —
/// including when it returns a bus error (the failing frame is not counted: whether it
/// reached the chain is unknown). Lets a driver that tracks command counters account
/// exactly for the polls that were sent.
pub async fn poll_done_counted<IO: SpiIo>(
    io: &mut IO,
    cmd: &[u8; 4],
    status_bytes: usize,
    max_polls: u32,
    interval_us: u32,
    sent: &mut u32,
) -> Result<Option<u32>, IO::Error> {
    let mut buf = [0xFFu8; 2 * MAX_DEVICES / 8 + 2];
    let n = status_bytes.clamp(1, buf.len());
    *sent = 0;
    for i in 0..max_polls {
        let b = &mut buf[..n];
        b.fill(0xFF);
        io.transaction(&mut [Operation::Write(cmd), Operation::TransferInPlace(b)])
            .await?;
        *sent = i + 1;
        if b[n - 1] == 0xFF {
            return Ok(Some(i + 1));
        }
        io.delay_us(interval_us).await;
    }
    Ok(None)
}

// ---- chains whose length is known only at run time -------------------------------------
//
// The same frames as above over the first `frames.len()` devices of a buffer sized for the
// compile-time capacity: a driver with capacity N running `n <= N` devices sends and reads
// exactly `4 + L·n` bytes, as a chain of `n` expects.

/// [`verify_chain`] over a slice: `out[d]` receives device `d`'s verdict, for
/// `d < min(frames.len(), out.len())`.
pub fn verify_chain_into<const L: usize>(
    frames: &[[u8; L]],
    pec: DataPec,
    out: &mut [Result<u8, FaultReason>],
) {
    for (o, f) in out.iter_mut().zip(frames) {
        *o = check_frame(f, pec);
    }
}

/// [`report`] over a slice of verdicts (device `d` = index `d`).
pub fn report_slice(verdicts: &[Result<u8, FaultReason>]) -> ChainReport {
    let mut r = ChainReport::OK;
    for (d, v) in verdicts.iter().enumerate() {
        if let Err(reason) = v {
            r.record(DeviceFault {
                device: d as u8,
                reason: *reason,
            });
        }
    }
    r
}

/// [`read_chain`] of `frames.len()` devices: the command, then `L · frames.len()` bytes in
/// one CS frame, device 0 first.
pub async fn read_chain_slice<IO: SpiIo, const L: usize>(
    io: &mut IO,
    cmd: &[u8; 4],
    frames: &mut [[u8; L]],
) -> Result<(), IO::Error> {
    let flat = frames.as_flattened_mut();
    flat.fill(0xFF);
    io.transaction(&mut [Operation::Write(cmd), Operation::TransferInPlace(flat)])
        .await
}

/// [`read_verified`] of `frames.len()` devices; `verdicts[d]` receives device `d`'s verdict
/// of the last attempt (`verdicts` as long as `frames`; extra entries are left alone).
pub async fn read_verified_slice<IO: SpiIo, const L: usize>(
    io: &mut IO,
    cmd: &[u8; 4],
    frames: &mut [[u8; L]],
    verdicts: &mut [Result<u8, FaultReason>],
    pec: DataPec,
    retries: u8,
) -> Result<(), IO::Error> {
    let mut attempt = 0;
    loop {
        read_chain_slice(io, cmd, frames).await?;
        verify_chain_into(frames, pec, verdicts);
        if verdicts.iter().all(Result::is_ok) || attempt >= retries {
            return Ok(());
        }
        attempt += 1;
    }
}

/// [`build_write`] of `data.len()` devices (host order in, wire order out: device
/// `data.len() − 1` first). Uses `min(data.len(), wire.len())` devices.
pub fn build_write_slice<const L: usize>(data: &[[u8; L]], pec: DataPec, wire: &mut [[u8; L]]) {
    let n = data.len().min(wire.len());
    let data = data.get(..n).unwrap_or(&[]);
    let wire = wire.get_mut(..n).unwrap_or(&mut []);
    for (w, d) in wire.iter_mut().zip(data.iter().rev()) {
        *w = *d;
        seal_frame(w, pec);
    }
}

/// [`write_chain`] of `wire.len()` devices.
pub async fn write_chain_slice<IO: SpiIo, const L: usize>(
    io: &mut IO,
    cmd: &[u8; 4],
    wire: &[[u8; L]],
) -> Result<(), IO::Error> {
    io.transaction(&mut [Operation::Write(cmd), Operation::Write(wire.as_flattened())])
        .await
}

/// What a chain-length detection read of `capacity + 1` frames shows ([`classify_chain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChainSeen {
    /// `k` devices answered, then silence: the chain length.
    Length(usize),
    /// A frame past the capacity answered: the chain is longer than `N`.
    Longer,
    /// Not a clean "answers, then silence" pattern: device `d` failed with `reason`.
    Unclear(u8, FaultReason),
}

/// Classifies the per-slot verdicts of a detection read: `k` good frames then silence is a
/// length; a good frame past `capacity` means a longer chain; anything else is unclear.
pub(crate) fn classify_chain(verdicts: &[Result<u8, FaultReason>], capacity: usize) -> ChainSeen {
    use ChainSeen as Seen;
    let k = verdicts.iter().take_while(|v| v.is_ok()).count();
    if k > capacity {
        return Seen::Longer;
    }
    match verdicts.get(k) {
        Some(Err(FaultReason::NoResponse))
            if verdicts
                .iter()
                .skip(k)
                .all(|v| *v == Err(FaultReason::NoResponse)) =>
        {
            if k == 0 {
                Seen::Unclear(0, FaultReason::NoResponse)
            } else {
                Seen::Length(k)
            }
        }
        // A failed frame (or a silent device with answering ones beyond it): device `k`.
        Some(Err(r)) => Seen::Unclear(k as u8, *r),
        _ => Seen::Unclear(k as u8, FaultReason::Framing),
    }
}

/// Bytes to clock after a poll command so `clocks` status clocks have passed, plus one byte
/// to sample.
pub const fn status_bytes(clocks: usize) -> usize {
    clocks.div_ceil(8) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_frames_match_published_vectors() {
        // WRCFGA: LTC6804-DS Table 24; the others: rt-LTC681X `src/commands.rs` (crate ltc681x
        // 0.6.2, https://github.com/atlas-aero/rt-LTC681X), each recomputed bit-serially.
        assert_eq!(command(0x001), [0x00, 0x01, 0x3D, 0x6E]); // WRCFGA
        assert_eq!(command(0x026), [0x00, 0x26, 0x2C, 0xC8]); // RDCFGB
        assert_eq!(command(0x00B), [0x00, 0x0B, 0x48, 0x36]); // RDCVF
        assert_eq!(command(0x370), [0x03, 0x70, 0xAF, 0x42]); // ADCV MD=10 DCP=1
        assert_eq!(command(0x723), [0x07, 0x23, 0xB9, 0xE4]); // STCOMM
        assert_eq!(command(0x020), [0x00, 0x20, 0x00, 0x00]); // WRPWM: PEC 0 is valid
    }

    #[test]
    fn verify_accepts_good_and_names_bad() {
        // rt tests/monitor.rs CVA read: 93 61 BB 1E AE 22 + PEC 9A 1C.
        let good = [0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22, 0x9A, 0x1C];
        assert_eq!(verify_frame(&good, DataPec::Pec15), Ok(0));
        // rt negative vector: PEC 11 0D where 11 0C is right.
        let bad = [0x2A, 0x63, 0x8E, 0x1E, 0xEC, 0x1F, 0x11, 0x0D];
        assert_eq!(
            verify_frame(&bad, DataPec::Pec15),
            Err(FaultReason::Pec {
                expected: 0x110C,
                received: 0x110D
            })
        );
        assert_eq!(
            verify_frame(&[0xFF; 8], DataPec::Pec15),
            Err(FaultReason::NoResponse)
        );
        assert_eq!(
            verify_frame(&[0x00; 8], DataPec::Pec10),
            Err(FaultReason::NoResponse)
        );
        // Cleared LTC group: all-FF data with its valid PEC 66 4C (ez-104495) passes.
        let cleared = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x66, 0x4C];
        assert_eq!(verify_frame(&cleared, DataPec::Pec15), Ok(0));
        // PEC10 with command counter 17 (ADBMS6830B-DS "Data PEC", Tables 42/43): zeros + 46 82.
        let z17 = [0, 0, 0, 0, 0, 0, 0x46, 0x82];
        assert_eq!(verify_frame(&z17, DataPec::Pec10), Ok(17));
        assert_eq!(
            verify_frame(&[0xFF, 0xFF], DataPec::Pec15),
            Err(FaultReason::Framing)
        );
    }

    #[test]
    fn write_is_reversed_on_the_wire() {
        // rt test_write_register_multiple_devices: wire order 01..06 (PEC 22 EE) then
        // 07..0C (PEC 28 C0); the first on the wire is the farthest device, so in host
        // order device 0 holds 07..0C.
        let host = [
            [0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0, 0],
            [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0],
        ];
        let mut wire = [[0u8; 8]; 2];
        build_write(&host, DataPec::Pec15, &mut wire);
        assert_eq!(wire[0], [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x22, 0xEE]);
        assert_eq!(wire[1], [0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x28, 0xC0]);
        // ADBMS6830 default CFGA write PEC10 (derived from ADBMS6830B-DS "Data PEC" with zero
        // counter bits; not hardware-verified): 01 00 00 FF 03 00 -> 00 5A.
        let mut f = [0x01, 0x00, 0x00, 0xFF, 0x03, 0x00, 0, 0];
        seal_frame(&mut f, DataPec::Pec10);
        assert_eq!(&f[6..], &[0x00, 0x5A]);
    }

    #[test]
    fn report_names_each_failed_device() {
        let mut frames = [[0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22, 0x9A, 0x1C]; 16];
        frames[9][3] ^= 0x01;
        let v = verify_chain(&frames, DataPec::Pec15);
        let r = report(&v);
        assert_eq!(r.failed.len(), 1);
        assert!(r.failed.contains(9));
        assert_eq!(r.first_fault.map(|f| f.device), Some(9));
        assert!(v.iter().enumerate().all(|(d, x)| x.is_ok() == (d != 9)));
    }

    #[test]
    fn status_bytes_cover_the_clocks() {
        assert_eq!(status_bytes(1), 2);
        assert_eq!(status_bytes(16), 3);
        assert_eq!(status_bytes(32), 5);
    }
}

#[cfg(test)]
mod chain_seen_tests {
    use super::*;
    use ChainSeen as Seen;
    use classify_chain as classify;

    const OK: Result<u8, FaultReason> = Ok(0);
    const SILENT: Result<u8, FaultReason> = Err(FaultReason::NoResponse);

    #[test]
    fn classify_accepts_only_answers_then_silence() {
        assert!(matches!(
            classify(&[OK, OK, OK, SILENT, SILENT], 4),
            Seen::Length(3)
        ));
        assert!(matches!(classify(&[OK, SILENT], 1), Seen::Length(1)));
        assert!(matches!(classify(&[OK, OK, OK], 2), Seen::Longer));
        assert!(matches!(
            classify(&[SILENT, SILENT], 1),
            Seen::Unclear(0, FaultReason::NoResponse)
        ));
        assert!(matches!(
            classify(&[OK, SILENT, OK, SILENT], 3),
            Seen::Unclear(1, FaultReason::NoResponse)
        ));
        let pec = Err(FaultReason::Pec {
            expected: 1,
            received: 2,
        });
        assert!(matches!(
            classify(&[OK, pec, SILENT], 2),
            Seen::Unclear(1, FaultReason::Pec { .. })
        ));
    }
}
