/**
 * The in-sandbox port forwarder (Python, run by Debian's python3): listens on 127.0.0.1:PORT inside the sandbox's
 * own network namespace, relays every connection to the granted Unix socket, runs the program as its child and
 * exits with the child's status. The sandbox has no other network, so only that one service is reachable.
 */
export const FORWARDER_FILE = 'forward.py';

export const FORWARDER_SOURCE = `import asyncio, sys

PORT = int(sys.argv[1])
SOCKET = sys.argv[2]
COMMAND = sys.argv[4:]


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def relay(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(SOCKET)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
    upstream_writer.close()
    client_writer.close()


async def main():
    server = await asyncio.start_server(relay, '127.0.0.1', PORT)
    child = await asyncio.create_subprocess_exec(*COMMAND)
    status = await child.wait()
    server.close()
    return status if status >= 0 else 128 - status


sys.exit(asyncio.run(main()))
`;
