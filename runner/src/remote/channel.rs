//! A link on two threads, as both the controller and the agents use one: frames handed to
//! [`Channel::send`] are encoded, encrypted and written by a writer thread (so no caller ever
//! blocks on a slow or cut peer), and a reader thread decodes each frame that arrives, stamps
//! it with the wall clock of its arrival (NTP's receive time, for clock probes) and hands it
//! on, then says once why the connection ended.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use crossbeam_channel::Sender;

use super::frame::{Frame, wall_ns};
use super::link::Link;

/// What a reader thread hands on.
pub enum Incoming {
    /// A frame, and the wall clock when it arrived.
    Frame(Box<Frame>, u64),
    /// The connection ended, and why (the last thing said).
    Closed(String),
}

/// The sending side of a link whose threads are running.
pub struct Channel {
    out: Sender<Vec<u8>>,
    closer: Option<TcpStream>,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

impl Channel {
    /// Start the threads of `link`, named after `name`; `deliver` gets what arrives.
    pub fn spawn(
        link: Link,
        name: &str,
        deliver: impl Fn(Incoming) + Send + 'static,
    ) -> std::io::Result<Channel> {
        let Link {
            mut reader,
            mut writer,
            local,
            peer,
            ..
        } = link;
        let closer = writer.closer().ok();
        let (out, frames) = crossbeam_channel::unbounded::<Vec<u8>>();
        std::thread::Builder::new()
            .name(format!("write {name}"))
            .spawn(move || {
                for frame in frames {
                    if writer.send(&frame).is_err() {
                        break;
                    }
                }
                writer.shutdown();
            })?;
        std::thread::Builder::new()
            .name(format!("read {name}"))
            .spawn(move || {
                loop {
                    let incoming = match reader.recv() {
                        Ok(bytes) => {
                            let received = wall_ns();
                            match Frame::decode(&bytes) {
                                Ok(frame) => Incoming::Frame(Box::new(frame), received),
                                Err(err) => Incoming::Closed(format!("a malformed frame ({err})")),
                            }
                        }
                        Err(err) => Incoming::Closed(err.to_string()),
                    };
                    let closed = matches!(incoming, Incoming::Closed(_));
                    deliver(incoming);
                    if closed {
                        return;
                    }
                }
            })?;
        Ok(Channel {
            out,
            closer,
            local,
            peer,
        })
    }

    /// Queue `frame` for the writer thread.
    pub fn send(&self, frame: &Frame) {
        let _ = self.out.send(frame.encode());
    }

    /// A sender of encoded frames on this link (for who sends without the channel).
    pub fn sender(&self) -> Sender<Vec<u8>> {
        self.out.clone()
    }

    /// Close the connection (both threads then end).
    pub fn close(&self) {
        if let Some(stream) = &self.closer {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A wake-up pipe, both ends non-blocking: the write end for threads that have something for
/// a loop, the read end for the loop's epoll.
pub fn wake_pipe() -> std::io::Result<(OwnedFd, Arc<OwnedFd>)> {
    let (read, write) = nix::unistd::pipe()?;
    for fd in [read.as_fd(), write.as_fd()] {
        let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    }
    Ok((read, Arc::new(write)))
}

/// Read everything waiting in a wake-up pipe.
pub fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 256];
    while matches!(nix::unistd::read(fd.as_fd(), &mut buf), Ok(n) if n > 0) {}
}
