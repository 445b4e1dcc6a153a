// Package kmsfake is a test double for AWS KMS that speaks the KMS JSON 1.1
// protocol on loopback, so that code under test can use the real AWS SDK
// client (github.com/aws/aws-sdk-go-v2/service/kms) unchanged.
//
// It implements the operations an envelope-encryption client needs:
// TrentService.GenerateDataKey, Decrypt, ReEncrypt and Encrypt. Requests
// must look like the SDK's: POST, Content-Type application/x-amz-json-1.1, an
// X-Amz-Target header and a SigV4 Authorization header (the signature itself
// is not verified). Blobs are base64 in JSON, as on the wire.
//
// Each key is a random 256-bit AES key held in memory. A ciphertext blob is
//
//	"KF" 0x01 | uint16 len(keyARN) | keyARN | 12-byte nonce | AES-256-GCM ciphertext+tag
//
// with the key ARN and the canonical encryption context as GCM additional
// data, so a Decrypt or ReEncrypt with another encryption context fails with
// InvalidCiphertextException, as at KMS, and a Decrypt naming another key
// fails with IncorrectKeyException.
//
// The server counts calls per operation (Calls), records each request's key
// id and encryption contexts (Requests), and can be told to fail the next
// calls of an operation (FailNext) to exercise error paths. It is safe for
// concurrent use. It is independent of internal/vault on purpose: other
// packages' tests use it directly with a *kms.Client from Client.
package kmsfake

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Operation names, as in the X-Amz-Target header after "TrentService.".
const (
	OpGenerateDataKey = "GenerateDataKey"
	OpDecrypt         = "Decrypt"
	OpReEncrypt       = "ReEncrypt"
	OpEncrypt         = "Encrypt"
)

// Error types the fake answers with (the "__type" of a KMS JSON error).
const (
	ErrInvalidCiphertext = "InvalidCiphertextException"
	ErrIncorrectKey      = "IncorrectKeyException"
	ErrNotFound          = "NotFoundException"
	ErrDisabled          = "DisabledException"
	ErrValidation        = "ValidationException"
	ErrThrottling        = "ThrottlingException"
	ErrInternal          = "KMSInternalException"
	ErrUnknownOperation  = "UnknownOperationException"
	ErrMissingAuth       = "MissingAuthenticationTokenException"
)

const (
	// Region and Account make up the ARNs of the fake's keys.
	Region  = "us-east-1"
	Account = "111122223333"

	// DefaultKeyID is the id of the key every new Server holds.
	DefaultKeyID = "00000000-0000-4000-8000-000000000001"

	contentType = "application/x-amz-json-1.1"
	targetPfx   = "TrentService."
	maxBody     = 1 << 20
	blobVersion = 0x01
	nonceSize   = 12
)

// Request is what the fake recorded of one call. It never holds plaintext
// or blobs.
type Request struct {
	Op string
	// KeyID is the key id the caller named (KeyId, or SourceKeyId for ReEncrypt).
	KeyID string
	// DestinationKeyID is ReEncrypt's DestinationKeyId.
	DestinationKeyID string
	// EncryptionContext is the request's EncryptionContext (SourceEncryptionContext for ReEncrypt).
	EncryptionContext map[string]string
	// DestinationEncryptionContext is ReEncrypt's DestinationEncryptionContext.
	DestinationEncryptionContext map[string]string
	// ErrorType is the "__type" of the answer, or "" on success.
	ErrorType string
}

type key struct {
	arn      string
	material []byte
	enabled  bool
}

type failure struct {
	errType string
	status  int
}

// Server is a running fake KMS. Create it with New or Start.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	hs *httptest.Server

	mu       sync.Mutex
	keys     map[string]*key   // by ARN
	aliases  map[string]string // "alias/name" -> key ARN
	calls    map[string]int
	requests []Request
	failures map[string][]failure
}

// New starts a fake KMS on 127.0.0.1 holding one enabled key, DefaultKeyID.
// Call Close when done, or use Start in tests.
func New() *Server {
	s := &Server{
		keys:     map[string]*key{},
		aliases:  map[string]string{},
		calls:    map[string]int{},
		failures: map[string][]failure{},
	}
	s.AddKey(DefaultKeyID)
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	return s
}

// Start is New with Close registered as the test's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.hs.Close() }

// ARN gives the ARN of a key id in this fake.
func ARN(keyID string) string {
	return "arn:aws:kms:" + Region + ":" + Account + ":key/" + keyID
}

// KeyID is the ARN of the default key.
func (s *Server) KeyID() string { return ARN(DefaultKeyID) }

// AddKey adds an enabled key with a fresh random 256-bit key and returns its
// ARN. Adding an existing id changes nothing.
func (s *Server) AddKey(id string) string {
	arn := ARN(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[arn]; !ok {
		m := make([]byte, 32)
		if _, err := rand.Read(m); err != nil {
			panic(err)
		}
		s.keys[arn] = &key{arn: arn, material: m, enabled: true}
	}
	return arn
}

// AddAlias makes alias ("alias/name") point at a key (id, ARN or alias).
func (s *Server) AddAlias(alias, keyID string) error {
	if !strings.HasPrefix(alias, "alias/") {
		return fmt.Errorf("kmsfake: alias %q must start with alias/", alias)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.resolve(keyID)
	if !ok {
		return fmt.Errorf("kmsfake: no key %q", keyID)
	}
	s.aliases[alias] = k.arn
	return nil
}

// SetEnabled enables or disables a key (id, ARN or alias). Calls with a
// disabled key fail with DisabledException.
func (s *Server) SetEnabled(keyID string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.resolve(keyID)
	if !ok {
		return fmt.Errorf("kmsfake: no key %q", keyID)
	}
	k.enabled = enabled
	return nil
}

// FailNext makes the next n calls of op fail with the given error type and
// HTTP status (400 if status is 0). Use ErrThrottling with 400 or
// ErrInternal with 500 to simulate transient failures; note that the SDK
// retries those unless its client was built with RetryMaxAttempts 1, as
// Client's is.
func (s *Server) FailNext(op, errType string, status, n int) {
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[op] = append(s.failures[op], failure{errType: errType, status: status})
	}
}

// Calls is how many requests for op reached the server, failed ones included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// TotalCalls is how many requests reached the server.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.EncryptionContext = copyMap(r.EncryptionContext)
		r.DestinationEncryptionContext = copyMap(r.DestinationEncryptionContext)
		out[i] = r
	}
	return out
}

// Reset forgets the counts and recorded requests (keys stay).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.requests = nil
}

// AWSConfig is an aws.Config for this server: region, static credentials,
// BaseEndpoint set to URL and one attempt per call (no retries).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDKMSFAKE", "kmsfake-secret", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       s.hs.Client(),
	}
}

// Client is a real SDK KMS client pointed at this server (see AWSConfig).
func (s *Server) Client(optFns ...func(*kms.Options)) *kms.Client {
	return kms.NewFromConfig(s.AWSConfig(), optFns...)
}

// --- protocol ---

type apiError struct {
	status  int
	errType string
	msg     string
}

func (e *apiError) Error() string { return e.errType + ": " + e.msg }

func errf(errType, format string, args ...any) *apiError {
	status := http.StatusBadRequest
	if errType == ErrInternal {
		status = http.StatusInternalServerError
	}
	return &apiError{status: status, errType: errType, msg: fmt.Sprintf(format, args...)}
}

type generateDataKeyIn struct {
	KeyId             string
	EncryptionContext map[string]string
	KeySpec           string
	NumberOfBytes     *int
}

type decryptIn struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	KeyId               string
	EncryptionAlgorithm string
}

type reEncryptIn struct {
	CiphertextBlob                 []byte
	SourceEncryptionContext        map[string]string
	SourceKeyId                    string
	DestinationKeyId               string
	DestinationEncryptionContext   map[string]string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
}

type encryptIn struct {
	KeyId               string
	Plaintext           []byte
	EncryptionContext   map[string]string
	EncryptionAlgorithm string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPfx)
	out, rec, err := s.handle(r, op)

	s.mu.Lock()
	s.calls[op]++
	rec.Op = op
	var ae *apiError
	if err != nil && !errors.As(err, &ae) {
		ae = errf(ErrInternal, "%v", err)
	}
	if fs := s.failures[op]; len(fs) > 0 {
		ae = &apiError{status: fs[0].status, errType: fs[0].errType, msg: "injected failure"}
		s.failures[op] = fs[1:]
		out = nil
	}
	if ae != nil {
		rec.ErrorType = ae.errType
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	w.Header().Set("Content-Type", contentType)
	if ae != nil {
		w.Header().Set("X-Amzn-ErrorType", ae.errType)
		w.WriteHeader(ae.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.errType, "message": ae.msg})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) handle(r *http.Request, op string) (any, Request, error) {
	var rec Request
	if r.Method != http.MethodPost {
		return nil, rec, errf(ErrValidation, "method %s not allowed", r.Method)
	}
	if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPfx) {
		return nil, rec, errf(ErrUnknownOperation, "missing or foreign X-Amz-Target")
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		return nil, rec, errf(ErrValidation, "content type %q, want %s", ct, contentType)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		return nil, rec, errf(ErrMissingAuth, "request is not signed with SigV4")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return nil, rec, errf(ErrValidation, "cannot read body")
	}
	switch op {
	case OpGenerateDataKey:
		var in generateDataKeyIn
		if err := decode(body, &in); err != nil {
			return nil, rec, err
		}
		rec.KeyID, rec.EncryptionContext = in.KeyId, copyMap(in.EncryptionContext)
		out, err := s.generateDataKey(in)
		return out, rec, err
	case OpDecrypt:
		var in decryptIn
		if err := decode(body, &in); err != nil {
			return nil, rec, err
		}
		rec.KeyID, rec.EncryptionContext = in.KeyId, copyMap(in.EncryptionContext)
		out, err := s.decrypt(in)
		return out, rec, err
	case OpReEncrypt:
		var in reEncryptIn
		if err := decode(body, &in); err != nil {
			return nil, rec, err
		}
		rec.KeyID, rec.EncryptionContext = in.SourceKeyId, copyMap(in.SourceEncryptionContext)
		rec.DestinationKeyID, rec.DestinationEncryptionContext = in.DestinationKeyId, copyMap(in.DestinationEncryptionContext)
		out, err := s.reEncrypt(in)
		return out, rec, err
	case OpEncrypt:
		var in encryptIn
		if err := decode(body, &in); err != nil {
			return nil, rec, err
		}
		rec.KeyID, rec.EncryptionContext = in.KeyId, copyMap(in.EncryptionContext)
		out, err := s.encrypt(in)
		return out, rec, err
	default:
		return nil, rec, errf(ErrUnknownOperation, "operation %q is not supported by kmsfake", op)
	}
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errf(ErrValidation, "malformed request body")
	}
	return nil
}

func (s *Server) generateDataKey(in generateDataKeyIn) (any, error) {
	n := 0
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return nil, errf(ErrValidation, "KeySpec and NumberOfBytes are mutually exclusive")
	case in.KeySpec == "AES_256":
		n = 32
	case in.KeySpec == "AES_128":
		n = 16
	case in.KeySpec != "":
		return nil, errf(ErrValidation, "unknown KeySpec %q", in.KeySpec)
	case in.NumberOfBytes != nil && *in.NumberOfBytes >= 1 && *in.NumberOfBytes <= 1024:
		n = *in.NumberOfBytes
	default:
		return nil, errf(ErrValidation, "one of KeySpec or NumberOfBytes (1..1024) is required")
	}
	k, err := s.usableKey(in.KeyId)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, n)
	if _, err := rand.Read(pt); err != nil {
		return nil, err
	}
	blob, err := seal(k, pt, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CiphertextBlob": blob, "Plaintext": pt, "KeyId": k.arn}, nil
}

func (s *Server) decrypt(in decryptIn) (any, error) {
	if in.EncryptionAlgorithm != "" && in.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		return nil, errf(ErrValidation, "unsupported EncryptionAlgorithm %q", in.EncryptionAlgorithm)
	}
	k, pt, err := s.open(in.CiphertextBlob, in.KeyId, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": k.arn, "Plaintext": pt, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

func (s *Server) reEncrypt(in reEncryptIn) (any, error) {
	if in.DestinationKeyId == "" {
		return nil, errf(ErrValidation, "DestinationKeyId is required")
	}
	for _, a := range []string{in.SourceEncryptionAlgorithm, in.DestinationEncryptionAlgorithm} {
		if a != "" && a != "SYMMETRIC_DEFAULT" {
			return nil, errf(ErrValidation, "unsupported encryption algorithm %q", a)
		}
	}
	src, pt, err := s.open(in.CiphertextBlob, in.SourceKeyId, in.SourceEncryptionContext)
	if err != nil {
		return nil, err
	}
	dst, err := s.usableKey(in.DestinationKeyId)
	if err != nil {
		return nil, err
	}
	blob, err := seal(dst, pt, in.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"CiphertextBlob":                 blob,
		"KeyId":                          dst.arn,
		"SourceKeyId":                    src.arn,
		"SourceEncryptionAlgorithm":      "SYMMETRIC_DEFAULT",
		"DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
	}, nil
}

func (s *Server) encrypt(in encryptIn) (any, error) {
	if len(in.Plaintext) < 1 || len(in.Plaintext) > 4096 {
		return nil, errf(ErrValidation, "Plaintext must be 1 to 4096 bytes")
	}
	if in.EncryptionAlgorithm != "" && in.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		return nil, errf(ErrValidation, "unsupported EncryptionAlgorithm %q", in.EncryptionAlgorithm)
	}
	k, err := s.usableKey(in.KeyId)
	if err != nil {
		return nil, err
	}
	blob, err := seal(k, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CiphertextBlob": blob, "KeyId": k.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

// resolve finds a key by id, key ARN, alias name or alias ARN. Callers hold s.mu.
func (s *Server) resolve(id string) (*key, bool) {
	if i := strings.Index(id, ":alias/"); strings.HasPrefix(id, "arn:") && i >= 0 {
		id = id[i+1:]
	}
	if strings.HasPrefix(id, "alias/") {
		arn, ok := s.aliases[id]
		if !ok {
			return nil, false
		}
		id = arn
	}
	if !strings.HasPrefix(id, "arn:") {
		id = ARN(id)
	}
	k, ok := s.keys[id]
	return k, ok
}

func (s *Server) usableKey(id string) (*key, error) {
	if id == "" {
		return nil, errf(ErrValidation, "KeyId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.resolve(id)
	if !ok {
		return nil, errf(ErrNotFound, "key %q does not exist", id)
	}
	if !k.enabled {
		return nil, errf(ErrDisabled, "key %s is disabled", k.arn)
	}
	return k, nil
}

// open decrypts a blob; keyID, when set, must name the blob's key.
func (s *Server) open(blob []byte, keyID string, ec map[string]string) (*key, []byte, error) {
	arn, nonce, ct, ok := parseBlob(blob)
	if !ok {
		return nil, nil, errf(ErrInvalidCiphertext, "the ciphertext is invalid")
	}
	s.mu.Lock()
	k, found := s.keys[arn]
	var named *key
	namedOK := true
	if keyID != "" {
		named, namedOK = s.resolve(keyID)
	}
	enabled := found && k.enabled
	s.mu.Unlock()
	if !namedOK {
		return nil, nil, errf(ErrNotFound, "key %q does not exist", keyID)
	}
	if !found {
		return nil, nil, errf(ErrInvalidCiphertext, "the ciphertext is invalid")
	}
	if named != nil && named.arn != k.arn {
		return nil, nil, errf(ErrIncorrectKey, "the key ID in the request does not identify the key used to encrypt the ciphertext")
	}
	if !enabled {
		return nil, nil, errf(ErrDisabled, "key %s is disabled", k.arn)
	}
	aead, err := newAEAD(k.material)
	if err != nil {
		return nil, nil, err
	}
	pt, err := aead.Open(nil, nonce, ct, aad(k.arn, ec))
	if err != nil {
		return nil, nil, errf(ErrInvalidCiphertext, "the ciphertext or encryption context is invalid")
	}
	return k, pt, nil
}

func seal(k *key, pt []byte, ec map[string]string) ([]byte, error) {
	aead, err := newAEAD(k.material)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("KF")
	b.WriteByte(blobVersion)
	b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(k.arn))))
	b.WriteString(k.arn)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	b.Write(nonce)
	return aead.Seal(b.Bytes(), nonce, pt, aad(k.arn, ec)), nil
}

func parseBlob(b []byte) (arn string, nonce, ct []byte, ok bool) {
	if len(b) < 5 || b[0] != 'K' || b[1] != 'F' || b[2] != blobVersion {
		return "", nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b[3:5]))
	rest := b[5:]
	if len(rest) < n+nonceSize+16 {
		return "", nil, nil, false
	}
	return string(rest[:n]), rest[n : n+nonceSize], rest[n+nonceSize:], true
}

func newAEAD(k []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// aad is "kmsfake/v1" | arn | the context, sorted by key, each key and value
// length-prefixed.
func aad(arn string, ec map[string]string) []byte {
	b := []byte("kmsfake/v1\x00")
	b = appendStr(b, arn)
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = appendStr(b, k)
		b = appendStr(b, ec[k])
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
