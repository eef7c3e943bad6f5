// plexuspeer is an independent implementation of the Plexus QUIC protocol (docs/protocol/quic.md) on quic-go,
// used by the tests of the C# transport as a second opinion on the wire format.
//
// Build (Debian packages golang-go and golang-github-lucas-clemente-quic-go-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= go build -o plexuspeer .
//
// Modes:
//
//	plexuspeer server -listen 127.0.0.1:0 -cert cert.pem -key key.pem [-ca ca.pem] [-checksum]
//	    Prints "listening <host:port>" once bound, then one "request ..." line per request it reads, and runs
//	    until stdin is closed or the process is killed. With -ca, clients must present a certificate signed by it.
//	    Endpoint interop/go/echo answers with one response message holding the request payload; any other
//	    endpoint is refused with ERROR(Unavailable, BEFORE_FIRST_BYTE).
//
//	plexuspeer client -connect host:port -ca ca.pem -servername name -endpoint ns/comp/ep
//	    (-payload text | -payload-file path) [-cert c.pem -key k.pem] [-instance n] [-request-id id]
//	    [-deadline-ms n] [-header k=v ...] [-checksum]
//	    Prints "alpn plexus/1", then "message <text>" per response message, "error <code> <flags> <message>" for
//	    an ERROR frame and "end" at the server's FIN. Exit code 0 when the exchange completed (whether the answer
//	    was messages or a typed error), 2 on a TLS or handshake failure (the error on stderr), 1 on anything else.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	quic "github.com/lucas-clemente/quic-go"
)

const (
	alpn            = "plexus/1"
	settingsMagic   = "PLXQ"
	settingsVersion = 1
	codecName       = "twopart"

	ourMaxHeader = 65536
	ourMaxBody   = 16 * 1024 * 1024

	frameRequest = 1
	frameData    = 2
	frameError   = 4

	flagBeforeFirstByte = 0x01
	flagEndMessage      = 0x02

	// PlexusErrorCode values.
	codeUnavailable     = 1
	codeProtocolError   = 6
	codePayloadTooLarge = 7

	// Application error codes (RESET_STREAM, STOP_SENDING, CONNECTION_CLOSE).
	appNoError      = 0x0
	appRefused      = 0x3
	appProtocol     = 0x4
	appCodecUnknown = 0x10
	appSettings     = 0x11

	echoEndpoint = "interop/go/echo"

	twoPartPrefix   = 16
	twoPartChecksum = 1
	maxErrorMessage = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeChecksum makes this peer set the TwoPart checksum flag on the frames it writes.
var writeChecksum bool

// ---------------------------------------------------------------------------------------------------------------
// SETTINGS

type settings struct {
	codec     string
	maxHeader uint32
	maxBody   uint32
}

func encodeSettings(s settings) []byte {
	b := make([]byte, 0, 14+len(s.codec))
	b = append(b, settingsMagic...)
	b = append(b, settingsVersion, byte(len(s.codec)))
	b = append(b, s.codec...)
	b = binary.LittleEndian.AppendUint32(b, s.maxHeader)
	b = binary.LittleEndian.AppendUint32(b, s.maxBody)
	return b
}

// settingsError is a SETTINGS message this peer cannot accept; code is the application error to close with.
type settingsError struct {
	code   quic.ApplicationErrorCode
	reason string
}

func (e *settingsError) Error() string { return e.reason }

func readSettings(r io.Reader) (settings, error) {
	var s settings
	head := make([]byte, 6)
	if _, err := io.ReadFull(r, head); err != nil {
		return s, fmt.Errorf("reading SETTINGS: %w", err)
	}
	if string(head[:4]) != settingsMagic {
		return s, &settingsError{appSettings, fmt.Sprintf("SETTINGS magic is %x, expected %x (PLXQ)", head[:4], []byte(settingsMagic))}
	}
	if head[4] != settingsVersion {
		return s, &settingsError{appSettings, fmt.Sprintf("SETTINGS version is %d, this peer speaks version %d", head[4], settingsVersion)}
	}
	n := int(head[5])
	if n < 1 || n > 64 {
		return s, &settingsError{appSettings, fmt.Sprintf("SETTINGS codec name length %d is outside 1-64", n)}
	}
	rest := make([]byte, n+8)
	if _, err := io.ReadFull(r, rest); err != nil {
		return s, fmt.Errorf("reading SETTINGS: %w", err)
	}
	s.codec = string(rest[:n])
	s.maxHeader = binary.LittleEndian.Uint32(rest[n:])
	s.maxBody = binary.LittleEndian.Uint32(rest[n+4:])
	for _, c := range []byte(s.codec) {
		if c < 0x20 || c > 0x7e {
			return s, &settingsError{appSettings, fmt.Sprintf("SETTINGS codec name %q is not printable ASCII", s.codec)}
		}
	}
	if s.maxHeader < 1024 || s.maxBody < 1024 {
		return s, &settingsError{appSettings, fmt.Sprintf("SETTINGS limits header %d / body %d are below the minimum 1024", s.maxHeader, s.maxBody)}
	}
	if !strings.EqualFold(s.codec, codecName) {
		return s, &settingsError{appCodecUnknown, fmt.Sprintf("codec %q is unknown to this server; it has: %s", s.codec, codecName)}
	}
	return s, nil
}

// ---------------------------------------------------------------------------------------------------------------
// TwoPart frames (docs/protocol/twopart.md)

// readFrame reads one TwoPart frame; it returns io.EOF when the stream ends cleanly before a frame starts.
func readFrame(r io.Reader, maxHeader, maxBody uint32) (header, body []byte, err error) {
	prefix := make([]byte, twoPartPrefix)
	n, err := io.ReadFull(r, prefix)
	if err != nil {
		if err == io.EOF && n == 0 {
			return nil, nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return nil, nil, fmt.Errorf("stream ended inside a TwoPart prefix (%d of 16 bytes)", n)
		}
		return nil, nil, err
	}
	hl := binary.LittleEndian.Uint32(prefix[0:])
	bl := binary.LittleEndian.Uint32(prefix[4:])
	flags := binary.LittleEndian.Uint32(prefix[8:])
	crc := binary.LittleEndian.Uint32(prefix[12:])
	if flags&^twoPartChecksum != 0 {
		return nil, nil, fmt.Errorf("TwoPart frame has unknown flags 0x%08x", flags)
	}
	if flags&twoPartChecksum == 0 && crc != 0 {
		return nil, nil, fmt.Errorf("TwoPart frame has no checksum flag but crc 0x%08x", crc)
	}
	if hl > maxHeader {
		return nil, nil, fmt.Errorf("TwoPart frame header %d bytes exceeds limit %d", hl, maxHeader)
	}
	if bl > maxBody {
		return nil, nil, fmt.Errorf("TwoPart frame body %d bytes exceeds limit %d", bl, maxBody)
	}
	buf := make([]byte, int(hl)+int(bl))
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, fmt.Errorf("stream ended inside a TwoPart frame (header %d, body %d bytes)", hl, bl)
		}
		return nil, nil, err
	}
	if flags&twoPartChecksum != 0 {
		if actual := crc32.Checksum(buf, castagnoli); actual != crc {
			return nil, nil, fmt.Errorf("TwoPart checksum mismatch: declared 0x%08x, computed 0x%08x", crc, actual)
		}
	}
	return buf[:hl], buf[hl:], nil
}

func encodeFrame(header, body []byte) []byte {
	out := make([]byte, twoPartPrefix, twoPartPrefix+len(header)+len(body))
	binary.LittleEndian.PutUint32(out[0:], uint32(len(header)))
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	out = append(out, header...)
	out = append(out, body...)
	if writeChecksum {
		binary.LittleEndian.PutUint32(out[8:], twoPartChecksum)
		binary.LittleEndian.PutUint32(out[12:], crc32.Checksum(out[twoPartPrefix:], castagnoli))
	}
	return out
}

// ---------------------------------------------------------------------------------------------------------------
// REQUEST header

type request struct {
	instance      uint64
	deadline      int64
	payloadLength uint64
	ns, comp, ep  string
	requestID     string
	headers       [][2]string
}

func (q *request) endpoint() string { return q.ns + "/" + q.comp + "/" + q.ep }

func appendShortString(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendLongString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func encodeRequest(q *request) ([]byte, error) {
	for _, part := range []string{q.ns, q.comp, q.ep} {
		if len(part) > 255 {
			return nil, fmt.Errorf("endpoint part %q is longer than 255 bytes", part)
		}
	}
	b := []byte{frameRequest, 0}
	b = binary.LittleEndian.AppendUint64(b, q.instance)
	b = binary.LittleEndian.AppendUint64(b, uint64(q.deadline))
	b = binary.LittleEndian.AppendUint64(b, q.payloadLength)
	b = appendShortString(b, q.ns)
	b = appendShortString(b, q.comp)
	b = appendShortString(b, q.ep)
	b = appendLongString(b, q.requestID)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(q.headers)))
	for _, h := range q.headers {
		b = appendLongString(b, h[0])
		b = appendLongString(b, h[1])
	}
	return b, nil
}

type cursor struct {
	b   []byte
	err error
}

func (c *cursor) take(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if len(c.b) < n {
		c.err = fmt.Errorf("REQUEST header ends inside %s", what)
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8(what string) int {
	if v := c.take(1, what); v != nil {
		return int(v[0])
	}
	return 0
}

func (c *cursor) u16(what string) int {
	if v := c.take(2, what); v != nil {
		return int(binary.LittleEndian.Uint16(v))
	}
	return 0
}

func (c *cursor) u64(what string) uint64 {
	if v := c.take(8, what); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (c *cursor) ascii(what string) string {
	v := c.take(c.u8(what+" length"), what)
	for _, ch := range v {
		if ch > 0x7e || ch < 0x20 {
			c.err = fmt.Errorf("%s is not printable ASCII", what)
		}
	}
	return string(v)
}

func (c *cursor) utf8(what string) string {
	v := c.take(c.u16(what+" length"), what)
	if c.err == nil && !utf8.Valid(v) {
		c.err = fmt.Errorf("%s is not valid UTF-8", what)
	}
	return string(v)
}

func parseRequest(h []byte) (*request, error) {
	if len(h) < 2 {
		return nil, errors.New("frame header shorter than 2 bytes")
	}
	if h[0] != frameRequest {
		return nil, fmt.Errorf("first frame on a request stream has type %d, expected REQUEST (1)", h[0])
	}
	if h[1] != 0 {
		return nil, fmt.Errorf("REQUEST has unknown flags 0x%02x", h[1])
	}
	c := &cursor{b: h[2:]}
	q := &request{}
	q.instance = c.u64("instance id")
	q.deadline = int64(c.u64("deadline"))
	q.payloadLength = c.u64("payload length")
	q.ns = c.ascii("endpoint namespace")
	q.comp = c.ascii("endpoint component")
	q.ep = c.ascii("endpoint name")
	q.requestID = c.utf8("request id")
	count := c.u16("header count")
	for i := 0; i < count && c.err == nil; i++ {
		name := c.utf8("header name")
		value := c.utf8("header value")
		q.headers = append(q.headers, [2]string{name, value})
	}
	if c.err == nil && len(c.b) != 0 {
		c.err = fmt.Errorf("REQUEST header has %d trailing bytes", len(c.b))
	}
	if c.err != nil {
		return nil, c.err
	}
	return q, nil
}

// ---------------------------------------------------------------------------------------------------------------
// TLS helpers

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate found in %s", path)
	}
	return pool, nil
}

type headerFlags [][2]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(v string) error {
	i := strings.IndexByte(v, '=')
	if i <= 0 {
		return fmt.Errorf("header %q is not name=value", v)
	}
	*h = append(*h, [2]string{v[:i], v[i+1:]})
	return nil
}

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

// ---------------------------------------------------------------------------------------------------------------
// server

func runServer(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address to listen on")
	certPath := fs.String("cert", "", "server certificate (PEM)")
	keyPath := fs.String("key", "", "server key (PEM, PKCS#8)")
	caPath := fs.String("ca", "", "require client certificates signed by this CA (PEM)")
	fs.BoolVar(&writeChecksum, "checksum", false, "set the TwoPart checksum flag on written frames")
	_ = fs.Parse(args)
	if *certPath == "" || *keyPath == "" {
		fail(1, "server: -cert and -key are required")
	}
	cert, err := tls.LoadX509KeyPair(*certPath, *keyPath)
	if err != nil {
		fail(1, "server: loading certificate: %v", err)
	}
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{alpn},
		MinVersion:   tls.VersionTLS13,
	}
	if *caPath != "" {
		pool, err := loadPool(*caPath)
		if err != nil {
			fail(1, "server: loading CA: %v", err)
		}
		tlsConf.ClientCAs = pool
		tlsConf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	listener, err := quic.ListenAddr(*listen, tlsConf, &quic.Config{
		MaxIdleTimeout:        30 * time.Second,
		KeepAlivePeriod:       5 * time.Second,
		MaxIncomingStreams:    100,
		MaxIncomingUniStreams: 3,
	})
	if err != nil {
		fail(1, "server: listen %s: %v", *listen, err)
	}
	fmt.Fprintf(os.Stdout, "listening %s\n", listener.Addr().String())
	_ = os.Stdout.Sync()

	go func() {
		// Runs until stdin closes (the test's way of saying stop) or the process is killed.
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = listener.Close()
		os.Exit(0)
	}()

	for {
		conn, err := listener.Accept(context.Background())
		if err != nil {
			fmt.Fprintf(os.Stderr, "server: accept: %v\n", err)
			return
		}
		go serveConnection(conn)
	}
}

func serveConnection(conn quic.Connection) {
	remote := conn.RemoteAddr()
	control, err := conn.OpenUniStream()
	if err != nil {
		fmt.Fprintf(os.Stderr, "server %v: opening control stream: %v\n", remote, err)
		return
	}
	if _, err := control.Write(encodeSettings(settings{codecName, ourMaxHeader, ourMaxBody})); err != nil {
		fmt.Fprintf(os.Stderr, "server %v: writing SETTINGS: %v\n", remote, err)
		return
	}

	ctx, cancel := context.WithTimeout(conn.Context(), 10*time.Second)
	peerControl, err := conn.AcceptUniStream(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "server %v: no client control stream: %v\n", remote, err)
		_ = conn.CloseWithError(appSettings, "no SETTINGS from the client")
		return
	}
	peer, err := readSettings(peerControl)
	if err != nil {
		fmt.Fprintf(os.Stderr, "server %v: %v\n", remote, err)
		var se *settingsError
		if errors.As(err, &se) {
			_ = conn.CloseWithError(se.code, se.reason)
		} else {
			_ = conn.CloseWithError(appSettings, err.Error())
		}
		return
	}
	// Later control messages (none are defined client -> server) are read and ignored.
	go func() { _, _ = io.Copy(io.Discard, peerControl) }()

	for {
		stream, err := conn.AcceptStream(context.Background())
		if err != nil {
			var ae *quic.ApplicationError
			if !(errors.As(err, &ae) && ae.ErrorCode == appNoError) {
				fmt.Fprintf(os.Stderr, "server %v: connection ended: %v\n", remote, err)
			}
			return
		}
		go serveStream(stream, peer)
	}
}

func writeError(stream quic.Stream, code byte, flags byte, message string) {
	if len(message) > maxErrorMessage {
		message = message[:maxErrorMessage]
	}
	_, _ = stream.Write(encodeFrame([]byte{frameError, flags, code}, []byte(message)))
	_ = stream.Close()
}

func protocolFailure(stream quic.Stream, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "server stream %d: "+format+"\n", append([]interface{}{stream.StreamID()}, args...)...)
	stream.CancelRead(appProtocol)
	stream.CancelWrite(appProtocol)
}

func serveStream(stream quic.Stream, peer settings) {
	header, body, err := readFrame(stream, ourMaxHeader, ourMaxBody)
	if err != nil {
		protocolFailure(stream, "reading REQUEST: %v", err)
		return
	}
	q, err := parseRequest(header)
	if err != nil {
		protocolFailure(stream, "%v", err)
		return
	}
	var hs []string
	for _, h := range q.headers {
		hs = append(hs, h[0]+"="+h[1])
	}
	fmt.Fprintf(os.Stdout, "request %s id=%s instance=%d deadline=%d length=%d headers=%s\n",
		q.endpoint(), q.requestID, q.instance, q.deadline, q.payloadLength, strings.Join(hs, ","))

	if q.endpoint() != echoEndpoint {
		writeError(stream, codeUnavailable, flagBeforeFirstByte,
			fmt.Sprintf("no such endpoint %s on the Go peer (it serves %s)", q.endpoint(), echoEndpoint))
		stream.CancelRead(appRefused)
		return
	}
	if q.payloadLength > ourMaxBody {
		writeError(stream, codePayloadTooLarge, flagBeforeFirstByte,
			fmt.Sprintf("payload of %d bytes exceeds the Go peer's limit of %d", q.payloadLength, ourMaxBody))
		stream.CancelRead(appRefused)
		return
	}

	payload := make([]byte, 0, q.payloadLength)
	payload = append(payload, body...)
	for {
		h, b, err := readFrame(stream, ourMaxHeader, ourMaxBody)
		if err == io.EOF {
			break
		}
		if err != nil {
			protocolFailure(stream, "reading DATA: %v", err)
			return
		}
		if len(h) != 2 || h[0] != frameData || h[1] != 0 {
			protocolFailure(stream, "expected DATA (header 02 00), got header %x", h)
			return
		}
		if uint64(len(payload))+uint64(len(b)) > q.payloadLength {
			writeError(stream, codeProtocolError, 0,
				fmt.Sprintf("payload exceeds its declared length of %d bytes", q.payloadLength))
			stream.CancelRead(appRefused)
			return
		}
		payload = append(payload, b...)
	}
	if uint64(len(payload)) != q.payloadLength {
		writeError(stream, codeProtocolError, 0,
			fmt.Sprintf("payload has %d bytes but REQUEST declared %d", len(payload), q.payloadLength))
		return
	}

	// One response message: the payload, in DATA frames no larger than the client accepts, the last END_MESSAGE.
	chunk := int(peer.maxBody)
	for offset := 0; ; {
		end := offset + chunk
		if end > len(payload) {
			end = len(payload)
		}
		flags := byte(0)
		if end == len(payload) {
			flags = flagEndMessage
		}
		if _, err := stream.Write(encodeFrame([]byte{frameData, flags}, payload[offset:end])); err != nil {
			fmt.Fprintf(os.Stderr, "server stream %d: writing DATA: %v\n", stream.StreamID(), err)
			return
		}
		offset = end
		if flags != 0 {
			break
		}
	}
	_ = stream.Close()
}

// ---------------------------------------------------------------------------------------------------------------
// client

// isHandshakeFailure tells a TLS or handshake failure (exit code 2) from other errors. With client certificates the
// server rejects the client only after the client has finished its side of the handshake, so the CRYPTO_ERROR
// close may arrive while the client already waits for SETTINGS.
func isHandshakeFailure(err error) bool {
	var te *quic.TransportError
	if errors.As(err, &te) && te.ErrorCode.IsCryptoError() {
		return true
	}
	var he *quic.HandshakeTimeoutError
	return errors.As(err, &he)
}

func runClient(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	connect := fs.String("connect", "", "server host:port")
	caPath := fs.String("ca", "", "CA that signed the server certificate (PEM)")
	serverName := fs.String("servername", "localhost", "name the server certificate must carry (and SNI)")
	endpoint := fs.String("endpoint", "", "ns/component/endpoint")
	payloadText := fs.String("payload", "", "request payload (text)")
	payloadFile := fs.String("payload-file", "", "read the request payload from this file instead")
	certPath := fs.String("cert", "", "client certificate (PEM)")
	keyPath := fs.String("key", "", "client key (PEM, PKCS#8)")
	instance := fs.Uint64("instance", 0, "instance id the client expects")
	requestID := fs.String("request-id", "", "request id (default: generated)")
	deadlineMs := fs.Int64("deadline-ms", 0, "deadline in milliseconds from now (0 = none)")
	timeout := fs.Duration("timeout", 30*time.Second, "overall timeout")
	var headers headerFlags
	fs.Var(&headers, "header", "request header name=value (repeatable)")
	fs.BoolVar(&writeChecksum, "checksum", false, "set the TwoPart checksum flag on written frames")
	_ = fs.Parse(args)

	parts := strings.Split(*endpoint, "/")
	if *connect == "" || len(parts) != 3 {
		fail(1, "client: -connect and -endpoint ns/component/endpoint are required")
	}
	payload := []byte(*payloadText)
	if *payloadFile != "" {
		var err error
		if payload, err = os.ReadFile(*payloadFile); err != nil {
			fail(1, "client: reading payload: %v", err)
		}
	}
	tlsConf := &tls.Config{
		ServerName: *serverName,
		NextProtos: []string{alpn},
		MinVersion: tls.VersionTLS13,
	}
	if *caPath != "" {
		pool, err := loadPool(*caPath)
		if err != nil {
			fail(1, "client: loading CA: %v", err)
		}
		tlsConf.RootCAs = pool
	}
	if *certPath != "" || *keyPath != "" {
		cert, err := tls.LoadX509KeyPair(*certPath, *keyPath)
		if err != nil {
			fail(1, "client: loading client certificate: %v", err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := quic.DialAddrContext(ctx, *connect, tlsConf, &quic.Config{
		HandshakeIdleTimeout:  10 * time.Second,
		MaxIdleTimeout:        30 * time.Second,
		KeepAlivePeriod:       5 * time.Second,
		MaxIncomingStreams:    -1,
		MaxIncomingUniStreams: 3,
	})
	if err != nil {
		fail(2, "client: handshake with %s failed: %v", *connect, err)
	}
	if got := conn.ConnectionState().TLS.NegotiatedProtocol; got != alpn {
		_ = conn.CloseWithError(appSettings, "ALPN")
		fail(2, "client: negotiated ALPN %q, expected %q", got, alpn)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprintf(out, "alpn %s\n", alpn)

	exit := func(err error, format string, args ...interface{}) {
		out.Flush()
		_ = conn.CloseWithError(appNoError, "")
		code := 1
		if isHandshakeFailure(err) {
			code = 2
		}
		fail(code, "client: "+format+": %v", append(args, err)...)
	}

	control, err := conn.OpenUniStream()
	if err != nil {
		exit(err, "opening control stream")
	}
	if _, err := control.Write(encodeSettings(settings{codecName, ourMaxHeader, ourMaxBody})); err != nil {
		exit(err, "writing SETTINGS")
	}
	peerControl, err := conn.AcceptUniStream(ctx)
	if err != nil {
		exit(err, "waiting for the server's control stream")
	}
	server, err := readSettings(peerControl)
	if err != nil {
		exit(err, "reading the server's SETTINGS")
	}
	go func() { _, _ = io.Copy(io.Discard, peerControl) }() // GOAWAY and unknown control messages: ignored

	id := *requestID
	if id == "" {
		id = fmt.Sprintf("go-%d", time.Now().UnixNano())
	}
	var deadline int64
	if *deadlineMs > 0 {
		const unixEpochTicks = 621355968000000000
		deadline = time.Now().Add(time.Duration(*deadlineMs)*time.Millisecond).UnixNano()/100 + unixEpochTicks
	}
	q := &request{
		instance: *instance, deadline: deadline, payloadLength: uint64(len(payload)),
		ns: parts[0], comp: parts[1], ep: parts[2], requestID: id, headers: headers,
	}
	head, err := encodeRequest(q)
	if err != nil {
		exit(err, "encoding REQUEST")
	}
	if uint32(len(head)) > server.maxHeader {
		exit(fmt.Errorf("%d > %d", len(head), server.maxHeader), "REQUEST header exceeds the server's max frame header bytes")
	}

	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		exit(err, "opening the request stream")
	}
	chunk := int(server.maxBody)
	first := len(payload)
	if first > chunk {
		first = chunk
	}
	if _, err := stream.Write(encodeFrame(head, payload[:first])); err != nil {
		exit(err, "writing REQUEST")
	}
	for offset := first; offset < len(payload); offset += chunk {
		end := offset + chunk
		if end > len(payload) {
			end = len(payload)
		}
		if _, err := stream.Write(encodeFrame([]byte{frameData, 0}, payload[offset:end])); err != nil {
			exit(err, "writing DATA")
		}
	}
	if err := stream.Close(); err != nil {
		exit(err, "closing the request stream")
	}

	var message []byte
	pending := false
	for {
		h, b, err := readFrame(stream, ourMaxHeader, ourMaxBody)
		if err == io.EOF {
			if pending {
				exit(errors.New("unterminated"), "the server ended the stream inside a response message (%d bytes without END_MESSAGE)", len(message))
			}
			fmt.Fprintln(out, "end")
			break
		}
		if err != nil {
			exit(err, "reading the response")
		}
		if len(h) < 2 {
			exit(fmt.Errorf("header %x", h), "response frame header shorter than 2 bytes")
		}
		switch {
		case h[0] == frameData && len(h) == 2 && h[1]&^flagEndMessage == 0:
			message = append(message, b...)
			pending = true
			if h[1]&flagEndMessage != 0 {
				fmt.Fprintf(out, "message %s\n", message)
				message = message[:0]
				pending = false
			}
		case h[0] == frameError && len(h) == 3 && h[1]&^flagBeforeFirstByte == 0:
			fmt.Fprintf(out, "error %d %d %s\n", h[2], h[1], b)
		default:
			exit(fmt.Errorf("header %x", h), "unexpected response frame")
		}
	}
	out.Flush()
	_ = conn.CloseWithError(appNoError, "")
}

func main() {
	if len(os.Args) < 2 {
		fail(1, "usage: plexuspeer server|client [flags]")
	}
	switch os.Args[1] {
	case "server":
		runServer(os.Args[2:])
	case "client":
		runClient(os.Args[2:])
	default:
		fail(1, "usage: plexuspeer server|client [flags]; unknown mode %q", os.Args[1])
	}
}
