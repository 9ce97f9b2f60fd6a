//! Configuration: the protection image, written as one block and verified, restored when the chip lost it.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn configure(
        &mut self,
        protection: &Protection,
    ) -> Result<Achieved, Error<IO::Error>> {
        let cal = self.cal().await?;
        let regs: ProtectionRegisters = protection.build(&cal)?;
        self.shunt_uohm = protection.shunt_uohm();
        self.image[2] = regs.protect1;
        self.image[3] = regs.protect2;
        self.image[4] = regs.protect3(0);
        self.image[5] = regs.ov_trip;
        self.image[6] = regs.uv_trip;
        self.apply_image().await?;
        self.achieved = Some(regs.achieved);
        Ok(regs.achieved)
    }

    /// Writes the configuration image (keeping the chip's FET bits and PROTECT3's reserved
    /// nibble) as one block and verifies it.
    async fn apply_image(&mut self) -> Result<(), Error<IO::Error>> {
        let mut now = [0u8; IMAGE_LEN];
        self.read_regs(reg::SYS_CTRL1, &mut now).await?;
        let mut img = self.image;
        img[1] = (img[1] & 0xC0) | (now[1] & (SysCtrl2::CHG_ON | SysCtrl2::DSG_ON).bits());
        img[4] = (img[4] & 0xF0) | (now[4] & 0x0F);
        self.write_verified(reg::SYS_CTRL1, &img, &IMAGE_MASK).await
    }

    /// Reads the configuration back and, if the chip lost it (every NORMAL-mode entry resets
    /// the registers, DS §8.3.1.2.1), writes it again. Returns `true` if it wrote. If the ADC
    /// had been off, waits the variant's first-data time (250/400/800 ms) before returning.
    pub(crate) async fn ensure_configured(&mut self) -> Result<bool, Error<IO::Error>> {
        let mut now = [0u8; IMAGE_LEN];
        self.read_regs(reg::SYS_CTRL1, &mut now).await?;
        let same = now
            .iter()
            .zip(self.image.iter())
            .zip(IMAGE_MASK.iter())
            .all(|((&a, &b), &m)| (a ^ b) & m == 0);
        if same {
            return Ok(false);
        }
        let adc_was_off = now[0] & SysCtrl1::ADC_EN.bits() == 0;
        self.apply_image().await?;
        if adc_was_off {
            self.io.delay_us(V::FIRST_DATA_MS * 1000).await;
        }
        Ok(true)
    }
}
