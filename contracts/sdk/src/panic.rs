//! The panic handler (wasm32 only): a panic aborts the call with
//! `E_CONTRACT_PANIC` and the panic's message.
//!
//! The message is formatted into a fixed buffer on the stack and cut at
//! [`MAX_MESSAGE`] bytes (on a character boundary), so panicking never
//! allocates: a panic raised because memory ran out cannot recurse. A panic
//! raised while formatting a panic message aborts with a fixed message.

use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use crate::codes::E_CONTRACT_PANIC;

/// The longest panic message passed to the host, in bytes.
const MAX_MESSAGE: usize = 300;

/// Set by the first panic.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// A fixed-size text buffer that keeps the first [`MAX_MESSAGE`] bytes written to it.
struct Truncated {
    buf: [u8; MAX_MESSAGE],
    len: usize,
    cut: bool,
}

impl Write for Truncated {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = MAX_MESSAGE - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            self.cut = true;
            // Stops the formatting: nothing more fits.
            return Err(fmt::Error);
        }
        Ok(())
    }
}

impl Truncated {
    fn as_str(&self) -> &str {
        // Only whole characters are ever copied in.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("panicked")
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Relaxed) {
        crate::sys::abort(E_CONTRACT_PANIC, "panicked while panicking");
    }
    let message = info.message();
    if let Some(s) = message.as_str() {
        // A message without arguments: no formatting at all.
        if s.len() <= MAX_MESSAGE {
            crate::sys::abort(E_CONTRACT_PANIC, s);
        }
    }
    let mut out = Truncated { buf: [0; MAX_MESSAGE], len: 0, cut: false };
    let _ = write!(out, "{message}");
    if out.cut {
        // Marks the cut, giving back whole characters to make room.
        let mut len = out.len.min(MAX_MESSAGE - 3);
        while !out.as_str().is_char_boundary(len) {
            len -= 1;
        }
        out.len = len;
        let _ = out.write_str("...");
    }
    crate::sys::abort(E_CONTRACT_PANIC, out.as_str())
}
