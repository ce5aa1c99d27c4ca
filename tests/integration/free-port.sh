# free_port: print a TCP port on 127.0.0.1 that nothing listens on now, asked of the kernel
# (bind to port 0), for shell tests that start daemons. Sourced, not run. A port derived from
# the PID collided with another test's listener or an outgoing connection in parallel runs.
free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 12000))
}
