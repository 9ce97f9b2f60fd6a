//! Cell balancing: the CB_CFG switches and the manual pause.

use super::*;

impl<V: Variant, T: Link<IO>, const N: usize, IO> Core<V, T, N, IO> {
    pub(super) async fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<T::Error>> {
        for d in 0..N {
            let v = self.read_one(d, reg::SYS_CFG1).await?;
            let want = if pause {
                v | reg::sys_cfg1::CB_MANUAL_PAUSE
            } else {
                v & !reg::sys_cfg1::CB_MANUAL_PAUSE
            } & !(reg::sys_cfg1::SOFT_RST | reg::sys_cfg1::GO2DIAG);
            self.write_verified(
                d,
                reg::SYS_CFG1,
                "SYS_CFG1",
                want,
                reg::sys_cfg1::CB_MANUAL_PAUSE,
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<T::Error>> {
        check_len(masks.len(), N)?;
        let mut inputs = [0u16; N];
        for (i, m) in inputs.iter_mut().zip(masks) {
            *i = self.map.cells_to_inputs(*m).map_err(Error::Config)?;
        }
        let timer = self.settings.cb_timer & reg::cb_cfg_bits::CB_TIMER;
        let populated = self.map.mask();
        for (d, want) in inputs.iter().enumerate() {
            for input in 1..=V::INPUTS {
                if populated & (1 << (input - 1)) == 0 {
                    continue;
                }
                let on = want & (1 << (input - 1)) != 0;
                let v = if on {
                    reg::cb_cfg_bits::CB_EN | timer
                } else {
                    0
                };
                self.write_reg(Some(d), reg::cb_cfg(input), v)
                    .await?
                    .map_err(|r| Error::Integrity(fault(d, r)))?;
            }
        }
        Ok(())
    }
}

bcc_twins! {
    /// Pauses (or resumes) balancing on every device (SYS_CFG1 CB_MANUAL_PAUSE, verified), e.g.
    /// around a cell measurement.
    pub fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<B::Error>>;
}
