//! An authenticated, encrypted, framed TCP connection between two harness processes (the
//! controller and an agent, or two agents).
//!
//! The cryptography is the Noise protocol's `NNpsk0` handshake over X25519, ChaCha20-Poly1305
//! and BLAKE2s, from the `snow` crate, with the run's shared key as the pre-shared key: a
//! side that does not hold the key cannot complete the handshake (the first message is
//! already encrypted under it), and every later byte is encrypted and authenticated under
//! keys fresh to the connection. Nothing here is home-made cryptography; this file only frames.
//!
//! On the wire every Noise message is a 2-byte big-endian length and that many bytes (Noise
//! messages are at most 65,535 bytes). A frame (one encoded [`super::frame::Frame`]) is one
//! or more Noise messages: the first one's plaintext starts with the frame's length (4 bytes,
//! big-endian), and the frame's bytes follow across as many messages as they need. A frame
//! longer than [`MAX_FRAME`] is refused as soon as its (authenticated) length is read: the
//! connection is closed, and nothing else.

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::key::Key;

/// The largest frame either side accepts, in bytes (a node's line is cut at 8 MiB by the
/// process backend; a frame carries one line and its addresses).
pub const MAX_FRAME: usize = 16 << 20;
/// How long a handshake may take before the connection is dropped (a silent peer holds
/// nothing for longer).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
const NOISE_PARAMS: &str = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s";
const NOISE_MAX: usize = 65_535;
const TAG: usize = 16;
/// The most plaintext one Noise message carries.
const CHUNK: usize = NOISE_MAX - TAG;

/// Why a connection failed or ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the connection was closed")]
    Closed,
    #[error(
        "the handshake failed: the peer does not hold the same key (or does not speak the \
         harness's protocol)"
    )]
    WrongKey,
    #[error("a frame of {0} bytes is over the limit of {MAX_FRAME} bytes")]
    TooLarge(usize),
    #[error("a message that does not decrypt: the connection was tampered with")]
    Tampered,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("noise: {0}")]
    Noise(String),
}

fn noise(err: snow::Error) -> LinkError {
    LinkError::Noise(err.to_string())
}

/// The reading half of a connection.
pub struct Reader {
    stream: BufReader<TcpStream>,
    state: Arc<snow::StatelessTransportState>,
    nonce: u64,
    cipher: Vec<u8>,
    plain: Vec<u8>,
}

/// The writing half of a connection.
pub struct Writer {
    stream: BufWriter<TcpStream>,
    state: Arc<snow::StatelessTransportState>,
    nonce: u64,
    cipher: Vec<u8>,
}

/// A connection after its handshake: its two halves, the peer's hello, and the addresses.
pub struct Link {
    pub reader: Reader,
    pub writer: Writer,
    /// What the peer said in its handshake message.
    pub hello: Vec<u8>,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

fn read_message(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<(), LinkError> {
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(LinkError::Closed),
        Err(e) => return Err(e.into()),
    }
    buf.resize(usize::from(u16::from_be_bytes(len)), 0);
    match stream.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(LinkError::Closed),
        Err(e) => Err(e.into()),
    }
}

fn write_message(stream: &mut impl Write, message: &[u8]) -> std::io::Result<()> {
    stream.write_all(&(message.len() as u16).to_be_bytes())?;
    stream.write_all(message)
}

fn builder(key: &Key) -> Result<snow::Builder<'_>, LinkError> {
    let params: snow::params::NoiseParams = NOISE_PARAMS.parse().map_err(noise)?;
    snow::Builder::new(params)
        .psk(0, key.bytes())
        .map_err(noise)
}

/// Connect to `addr` and complete the handshake as the initiator, saying `hello`.
pub fn connect(addr: &str, key: &Key, hello: &[u8]) -> Result<Link, LinkError> {
    let mut last = None;
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    for candidate in addrs {
        match TcpStream::connect_timeout(&candidate, HANDSHAKE_TIMEOUT) {
            Ok(stream) => return handshake(stream, key, hello, true),
            Err(err) => last = Some(err),
        }
    }
    Err(last
        .unwrap_or_else(|| std::io::Error::other(format!("{addr} names no address")))
        .into())
}

/// Complete the handshake on an accepted connection as the responder, answering `hello`.
pub fn accept(stream: TcpStream, key: &Key, hello: &[u8]) -> Result<Link, LinkError> {
    handshake(stream, key, hello, false)
}

fn handshake(
    stream: TcpStream,
    key: &Key,
    hello: &[u8],
    initiator: bool,
) -> Result<Link, LinkError> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    stream.set_write_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let local = stream.local_addr()?;
    let peer = stream.peer_addr()?;
    let builder = builder(key)?;
    let mut state = if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    }
    .map_err(noise)?;
    if hello.len() > CHUNK - 64 {
        return Err(LinkError::TooLarge(hello.len()));
    }
    let mut message = vec![0u8; NOISE_MAX];
    let mut payload = vec![0u8; NOISE_MAX];
    let mut wire = Vec::new();
    let mut io = stream.try_clone()?;
    let their_hello;
    if initiator {
        let n = state.write_message(hello, &mut message).map_err(noise)?;
        write_message(&mut io, &message[..n])?;
        match read_message(&mut io, &mut wire) {
            Ok(()) => {}
            // The responder hangs up on a wrong key.
            Err(LinkError::Closed) => return Err(LinkError::WrongKey),
            Err(LinkError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(LinkError::WrongKey);
            }
            Err(e) => return Err(e),
        }
        let n = state
            .read_message(&wire, &mut payload)
            .map_err(|_| LinkError::WrongKey)?;
        their_hello = payload[..n].to_vec();
    } else {
        read_message(&mut io, &mut wire)?;
        let n = state
            .read_message(&wire, &mut payload)
            .map_err(|_| LinkError::WrongKey)?;
        their_hello = payload[..n].to_vec();
        let n = state.write_message(hello, &mut message).map_err(noise)?;
        write_message(&mut io, &message[..n])?;
    }
    let state = Arc::new(state.into_stateless_transport_mode().map_err(noise)?);
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    Ok(Link {
        reader: Reader {
            stream: BufReader::with_capacity(1 << 16, stream.try_clone()?),
            state: state.clone(),
            nonce: 0,
            cipher: Vec::new(),
            plain: vec![0u8; NOISE_MAX],
        },
        writer: Writer {
            stream: BufWriter::with_capacity(1 << 16, stream),
            state,
            nonce: 0,
            cipher: vec![0u8; NOISE_MAX],
        },
        hello: their_hello,
        local,
        peer,
    })
}

impl Writer {
    /// Send one frame, encrypted, and flush it.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), LinkError> {
        if frame.len() > MAX_FRAME {
            return Err(LinkError::TooLarge(frame.len()));
        }
        self.send_unchecked(frame.len() as u32, frame)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Send `frame` under the length `len` (which [`Writer::send`] makes its true length; a
    /// test sends a length over the limit to see the peer refuse it).
    fn send_unchecked(&mut self, len: u32, frame: &[u8]) -> Result<(), LinkError> {
        let mut first = Vec::with_capacity(CHUNK.min(frame.len() + 4));
        first.extend_from_slice(&len.to_be_bytes());
        let head = frame.len().min(CHUNK - 4);
        first.extend_from_slice(&frame[..head]);
        self.seal(&first)?;
        for chunk in frame[head..].chunks(CHUNK) {
            self.seal(chunk)?;
        }
        Ok(())
    }

    fn seal(&mut self, plain: &[u8]) -> Result<(), LinkError> {
        let n = self
            .state
            .write_message(self.nonce, plain, &mut self.cipher)
            .map_err(noise)?;
        self.nonce += 1;
        write_message(&mut self.stream, &self.cipher[..n])?;
        Ok(())
    }

    /// Claim a frame of `len` bytes and send `frame` (for tests of the size limit).
    #[doc(hidden)]
    pub fn send_claiming(&mut self, len: u32, frame: &[u8]) -> Result<(), LinkError> {
        self.send_unchecked(len, frame)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Close both directions of the connection.
    pub fn shutdown(&self) {
        let _ = self.stream.get_ref().shutdown(std::net::Shutdown::Both);
    }

    /// A handle that closes the connection from another thread.
    pub fn closer(&self) -> std::io::Result<TcpStream> {
        self.stream.get_ref().try_clone()
    }
}

impl Reader {
    fn open(&mut self) -> Result<usize, LinkError> {
        read_message(&mut self.stream, &mut self.cipher)?;
        let n = self
            .state
            .read_message(self.nonce, &self.cipher, &mut self.plain)
            .map_err(|_| LinkError::Tampered)?;
        self.nonce += 1;
        Ok(n)
    }

    /// The next frame.
    pub fn recv(&mut self) -> Result<Vec<u8>, LinkError> {
        let n = self.open()?;
        if n < 4 {
            return Err(LinkError::Tampered);
        }
        let len = u32::from_be_bytes(self.plain[..4].try_into().expect("4 bytes")) as usize;
        if len > MAX_FRAME {
            return Err(LinkError::TooLarge(len));
        }
        let mut frame = Vec::with_capacity(len);
        frame.extend_from_slice(&self.plain[4..n]);
        while frame.len() < len {
            let n = self.open()?;
            frame.extend_from_slice(&self.plain[..n]);
        }
        if frame.len() != len {
            return Err(LinkError::Tampered);
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair(
        server_key: Key,
        client_key: Key,
    ) -> (Result<Link, LinkError>, Result<Link, LinkError>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            accept(stream, &server_key, b"agent")
        });
        let client = connect(&addr, &client_key, b"controller");
        (server.join().unwrap(), client)
    }

    #[test]
    fn frames_cross_whole_small_and_large() {
        let key = Key::generate();
        let (server, client) = pair(key.clone(), key);
        let (mut server, mut client) = (server.unwrap(), client.unwrap());
        assert_eq!(server.hello, b"controller");
        assert_eq!(client.hello, b"agent");
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        client.writer.send(b"hello").unwrap();
        client.writer.send(&big).unwrap();
        client.writer.send(b"").unwrap();
        assert_eq!(server.reader.recv().unwrap(), b"hello");
        assert_eq!(server.reader.recv().unwrap(), big);
        assert_eq!(server.reader.recv().unwrap(), b"");
        server.writer.send(b"back").unwrap();
        assert_eq!(client.reader.recv().unwrap(), b"back");
        drop(client);
        assert!(matches!(server.reader.recv(), Err(LinkError::Closed)));
    }

    #[test]
    fn a_wrong_key_fails_the_handshake_on_both_sides() {
        let (server, client) = pair(Key::generate(), Key::generate());
        assert!(matches!(server, Err(LinkError::WrongKey)), "server");
        assert!(matches!(client, Err(LinkError::WrongKey)), "client");
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_before_it_is_read() {
        let key = Key::generate();
        let (server, client) = pair(key.clone(), key);
        let (mut server, mut client) = (server.unwrap(), client.unwrap());
        client
            .writer
            .send_claiming(MAX_FRAME as u32 + 1, b"short")
            .unwrap();
        assert!(matches!(server.reader.recv(), Err(LinkError::TooLarge(n)) if n == MAX_FRAME + 1));
        assert!(matches!(
            client.writer.send(&vec![0; MAX_FRAME + 1]),
            Err(LinkError::TooLarge(_))
        ));
    }
}
