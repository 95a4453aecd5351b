package floors

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/ocikms/ocikms/bench/internal/proc"
)

// TransportCPUMicros is the client CPU one request costs with no signing and no HTTP library: the
// signed request replayed over one kept-alive blocking socket (one write, blocking reads), at
// concurrency 1, in microseconds per request. With the signature floor it bounds from below the
// client CPU of any implementation that sends one request per operation over loopback TCP.
func TransportCPUMicros(r *SignedRequest, requests int) (float64, error) {
	fd, err := dial(r.url)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	raw := r.raw()
	buf := make([]byte, 64<<10)
	for range 20 { // warm-up
		if err := roundTrip(fd, raw, buf); err != nil {
			return 0, err
		}
	}
	cpu0 := proc.CPUTime()
	for range requests {
		if err := roundTrip(fd, raw, buf); err != nil {
			return 0, err
		}
	}
	return float64((proc.CPUTime() - cpu0).Nanoseconds()) / 1e3 / float64(requests), nil
}

// dial opens a blocking TCP socket (TCP_NODELAY, as HTTP clients set) to the URL's host.
func dial(rawURL string) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return -1, err
	}
	addr, err := net.ResolveTCPAddr("tcp4", u.Host)
	if err != nil {
		return -1, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	sa := &syscall.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("connecting to %s: %w", u.Host, err)
	}
	return fd, nil
}

// raw is the request as HTTP/1.1 bytes (headers in a fixed order).
func (r *SignedRequest) raw() []byte {
	u, _ := url.Parse(r.url) // parsed successfully by SignEncrypt
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nhost: %s\r\n", u.EscapedPath(), u.Host)
	names := make([]string, 0, len(r.headers))
	for name := range r.headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "%s: %s\r\n", name, r.headers.Get(name))
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// roundTrip writes the request and reads one complete 200 response (Content-Length framed).
func roundTrip(fd int, request, buf []byte) error {
	for sent := 0; sent < len(request); {
		n, err := syscall.Write(fd, request[sent:])
		if err != nil {
			return err
		}
		sent += n
	}
	got, want := 0, -1
	for want < 0 || got < want {
		if got == len(buf) {
			return fmt.Errorf("response larger than %d bytes", len(buf))
		}
		n, err := syscall.Read(fd, buf[got:])
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("the emulator closed the connection")
		}
		got += n
		if want < 0 {
			if want, err = responseLength(buf[:got]); err != nil {
				return err
			}
		}
	}
	return nil
}

// responseLength is the full length (head + body) of the 200 response starting buf, or -1 while
// its head is incomplete.
func responseLength(buf []byte) (int, error) {
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return -1, nil
	}
	head := strings.ToLower(string(buf[:end]))
	if !strings.HasPrefix(head, "http/1.1 200") {
		return 0, fmt.Errorf("the emulator answered %q", strings.SplitN(head, "\r\n", 2)[0])
	}
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "content-length:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return end + 4 + n, err
		}
	}
	return 0, fmt.Errorf("the emulator's response has no content-length")
}
