//! Control: the CHG/DSG FETs and SHIP mode.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn set_fets(&mut self, chg: bool, dsg: bool) -> Result<(), Error<IO::Error>> {
        let now = SysCtrl2::from_bits_retain(self.read_u8(reg::SYS_CTRL2).await?);
        let mut want = now - SysCtrl2::CC_ONESHOT - SysCtrl2::CHG_ON - SysCtrl2::DSG_ON;
        want.set(SysCtrl2::CHG_ON, chg);
        want.set(SysCtrl2::DSG_ON, dsg);
        // A latched fault keeps its FET off until SYS_STAT is cleared (DS §8.3.1.3.1): the
        // read-back then names SYS_CTRL2 and the refused bit.
        self.write_verified(reg::SYS_CTRL2, &[want.bits()], &[0x03])
            .await
    }

    pub(crate) async fn fets(&mut self) -> Result<(bool, bool), Error<IO::Error>> {
        let c = SysCtrl2::from_bits_retain(self.read_u8(reg::SYS_CTRL2).await?);
        Ok((c.contains(SysCtrl2::CHG_ON), c.contains(SysCtrl2::DSG_ON)))
    }

    pub(crate) async fn enter_ship_mode(&mut self) -> Result<(), Error<IO::Error>> {
        let c1 = self.read_u8(reg::SYS_CTRL1).await? & 0x18;
        // DS §8.4.2, Table 8-7: from SHUT_A = SHUT_B = 0, write (0, 1) then (1, 0).
        self.write_regs(reg::SYS_CTRL1, &[c1]).await?;
        self.write_regs(reg::SYS_CTRL1, &[c1 | SysCtrl1::SHUT_B.bits()])
            .await?;
        self.write_regs(reg::SYS_CTRL1, &[c1 | SysCtrl1::SHUT_A.bits()])
            .await
    }
}
