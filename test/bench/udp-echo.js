// Benchmark UDP backend: echoes every datagram to its sender; `node udp-echo.js <port>` prints `listening <port>`.
import { createSocket } from 'node:dgram';

const socket = createSocket('udp4');
socket.on('message', (message, from) => socket.send(message, from.port, from.address));
socket.bind(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${socket.address().port}`));
