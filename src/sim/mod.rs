//! Virtual chips: register-level simulators behind the embedded-hal bus traits.
