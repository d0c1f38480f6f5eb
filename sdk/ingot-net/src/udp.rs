//! UDP for programs: bind a port, receive datagrams with their sender, send to anyone.

use alloc::vec;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::IpEndpoint;

use crate::io::FrameIo;
use crate::stack::{Net, NetError};

/// A bound UDP port, from [`Net::udp_bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpPort(SocketHandle);

impl<F: FrameIo> Net<F> {
    /// Binds `port` with room for `datagrams` datagrams (of up to 1472 bytes) each way.
    pub fn udp_bind(&mut self, port: u16, datagrams: usize) -> Result<UdpPort, NetError> {
        if port == 0 || datagrams == 0 {
            return Err(NetError::InvalidArgument);
        }
        let buffer = || {
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; datagrams],
                vec![0; datagrams * 1472],
            )
        };
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.bind(port).map_err(|_| NetError::InvalidArgument)?;
        Ok(UdpPort(self.sockets.add(socket)))
    }

    /// The next datagram: its length in `buffer` (cut to fit) and its sender.
    pub fn udp_receive(&mut self, port: UdpPort, buffer: &mut [u8]) -> Option<(usize, IpEndpoint)> {
        let socket = self.sockets.get_mut::<udp::Socket<'_>>(port.0);
        let (data, meta) = socket.recv().ok()?;
        let length = data.len().min(buffer.len());
        buffer[..length].copy_from_slice(&data[..length]);
        Some((length, meta.endpoint))
    }

    /// Queues a datagram to `to` (sent by the next poll).
    pub fn udp_send(&mut self, port: UdpPort, data: &[u8], to: IpEndpoint) -> Result<(), NetError> {
        let socket = self.sockets.get_mut::<udp::Socket<'_>>(port.0);
        socket.send_slice(data, to).map_err(|error| match error {
            udp::SendError::BufferFull => NetError::Exhausted,
            udp::SendError::Unaddressable => NetError::InvalidArgument,
        })
    }
}
