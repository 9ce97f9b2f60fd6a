//! Links bms-afe into a no_std staticlib; see Cargo.toml.
#![no_std]

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {}
}

/// Keeps the integrity codes and conversions in the link.
#[unsafe(no_mangle)]
pub extern "C" fn nostd_check(data: *const u8) -> u32 {
    let group = [data as usize as u8; 6];
    let pec = bms_afe::crc::pec15(&group) as u32;
    let pec10 = bms_afe::crc::pec10(&group, 3) as u32;
    let frame = bms_afe::isospi::command(0x260);
    let v = bms_afe::units::MicroVolts::from_lsb(u32::from(frame[2]), 100).as_microvolts();
    pec ^ pec10 ^ v as u32
}
