package netcheck

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// The payload codec's wire format (docs/contract.md § Payload encryption).
const (
	EncryptedEncoding = "binary/encrypted"
	MetadataEncoding  = "encoding"
	MetadataKeyID     = "encryption-key-id"
	MetadataCipher    = "encryption-cipher"
	Cipher            = "AES-256-GCM"
	KeyBytes          = 32
	ivBytes           = 12
	tagBytes          = 16
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// KeyRing is NETCHECK_ENCRYPTION_KEYS: the first key encrypts, every key decrypts.
type KeyRing struct {
	Primary string
	Keys    map[string][]byte
}

// ParseKeyRing reads "<key id>:<base64 of 32 bytes>" entries separated by commas or newlines,
// newest (the encrypting key) first.
func ParseKeyRing(text string) (*KeyRing, error) {
	ring := &KeyRing{Keys: map[string][]byte{}}
	for _, entry := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, material, ok := strings.Cut(entry, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("netcheck: key ring entry %d is not <key id>:<base64 key>", len(ring.Keys)+1)
		}
		if _, dup := ring.Keys[id]; dup {
			return nil, fmt.Errorf("netcheck: key id %q appears twice", id)
		}
		key, err := base64.StdEncoding.DecodeString(material)
		if err != nil || len(key) != KeyBytes {
			return nil, fmt.Errorf("netcheck: key %q must be the base64 of %d bytes", id, KeyBytes)
		}
		if ring.Primary == "" {
			ring.Primary = id
		}
		ring.Keys[id] = key
	}
	if ring.Primary == "" {
		return nil, fmt.Errorf("netcheck: the key ring holds no key")
	}
	return ring, nil
}

// Codec is netcheck's payload codec: each whole Payload (metadata and data, protobuf-encoded)
// sealed with AES-256-GCM; data is IV ‖ ciphertext ‖ tag, the associated data
// "netcheck-payload/v1|<key id>".
type Codec struct {
	Ring *KeyRing
	// iv, when set, replaces the random IV (golden-vector tests only).
	iv func() []byte
}

var _ converter.PayloadCodec = (*Codec)(nil)

func associatedData(keyID string) []byte { return []byte("netcheck-payload/v1|" + keyID) }

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithTagSize(block, tagBytes)
}

// Encode encrypts every payload with the primary key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	key := c.Ring.Keys[c.Ring.Primary]
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		iv := make([]byte, ivBytes)
		if c.iv != nil {
			iv = c.iv()
		} else if _, err := rand.Read(iv); err != nil {
			return nil, err
		}
		sealed := aead.Seal(append([]byte{}, iv...), iv, plain, associatedData(c.Ring.Primary))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncryptedEncoding),
				MetadataKeyID:    []byte(c.Ring.Primary),
				MetadataCipher:   []byte(Cipher),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode opens encrypted payloads; others pass unchanged. An encrypted payload whose key id is
// not in the ring, or that does not authenticate, is an error, never passed through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncryptedEncoding {
			out[i] = p
			continue
		}
		keyID := string(p.GetMetadata()[MetadataKeyID])
		if keyID == "" {
			return nil, fmt.Errorf("netcheck: an encrypted payload carries no %q", MetadataKeyID)
		}
		key, ok := c.Ring.Keys[keyID]
		if !ok {
			return nil, fmt.Errorf("netcheck: a payload is encrypted with key %q, which is not in the key ring", keyID)
		}
		if name, ok := p.GetMetadata()[MetadataCipher]; ok && string(name) != Cipher {
			return nil, fmt.Errorf("netcheck: a payload uses cipher %q; netcheck knows only %s", name, Cipher)
		}
		data := p.GetData()
		if len(data) < ivBytes+tagBytes {
			return nil, fmt.Errorf("netcheck: an encrypted payload (key %q) is truncated", keyID)
		}
		aead, err := gcm(key)
		if err != nil {
			return nil, err
		}
		plain, err := aead.Open(nil, data[:ivBytes], data[ivBytes:], associatedData(keyID))
		if err != nil {
			return nil, fmt.Errorf("netcheck: a payload encrypted with key %q does not decrypt (wrong key, or altered)", keyID)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, err
		}
		out[i] = &decoded
	}
	return out, nil
}

// Converters returns the data converter and failure converter of a netcheck client: with a key
// ring, payloads are encrypted and failure messages travel in encoded (so encrypted) attributes,
// as netcheck's encrypted workers write them; without one, Temporal's defaults.
func Converters(ring *KeyRing) (converter.DataConverter, converter.FailureConverter) {
	if ring == nil {
		return converter.GetDefaultDataConverter(), temporal.GetDefaultFailureConverter()
	}
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &Codec{Ring: ring})
	fc := temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
	return dc, fc
}
