package federation

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"

	"github.com/beevik/etree"
)

// encrypted is an xenc:EncryptedData as a delegation token carries it.
type encrypted struct {
	dataAlg   string
	keyAlg    string
	ski       []byte
	wrapped   []byte
	cipherTxt []byte
}

func childNS(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// one returns the only child ns:local of el, or an error naming it.
func one(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := childNS(el, ns, local)
	switch len(cs) {
	case 1:
		return cs[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %s has no %s", ErrMalformed, el.Tag, local)
	}
	return nil, fmt.Errorf("%w: %s has %d %s elements", ErrMalformed, el.Tag, len(cs), local)
}

func b64(el *etree.Element) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, el.Text())
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", ErrMalformed, el.Tag)
	}
	return b, nil
}

// parseEncrypted reads EncryptedData/{EncryptionMethod, KeyInfo/EncryptedKey
// /{EncryptionMethod, KeyInfo/SecurityTokenReference/KeyIdentifier,
// CipherData/CipherValue}, CipherData/CipherValue}. NOTES §4.3.
func parseEncrypted(ed *etree.Element) (*encrypted, error) {
	var e encrypted
	m, err := one(ed, nsXEnc, "EncryptionMethod")
	if err != nil {
		return nil, err
	}
	e.dataAlg = m.SelectAttrValue("Algorithm", "")
	ki, err := one(ed, nsDSig, "KeyInfo")
	if err != nil {
		return nil, err
	}
	ek, err := one(ki, nsXEnc, "EncryptedKey")
	if err != nil {
		return nil, err
	}
	km, err := one(ek, nsXEnc, "EncryptionMethod")
	if err != nil {
		return nil, err
	}
	e.keyAlg = km.SelectAttrValue("Algorithm", "")
	eki, err := one(ek, nsDSig, "KeyInfo")
	if err != nil {
		return nil, err
	}
	str, err := one(eki, nsWSSE, "SecurityTokenReference")
	if err != nil {
		return nil, err
	}
	kid, err := one(str, nsWSSE, "KeyIdentifier")
	if err != nil {
		return nil, err
	}
	if vt := kid.SelectAttrValue("ValueType", ""); vt != valueSKI {
		return nil, fmt.Errorf("%w: KeyIdentifier ValueType %q is not a Subject Key Identifier", ErrMalformed, vt)
	}
	if e.ski, err = b64(kid); err != nil {
		return nil, err
	}
	for _, pair := range []struct {
		parent *etree.Element
		dst    *[]byte
	}{{ek, &e.wrapped}, {ed, &e.cipherTxt}} {
		cd, err := one(pair.parent, nsXEnc, "CipherData")
		if err != nil {
			return nil, err
		}
		cv, err := one(cd, nsXEnc, "CipherValue")
		if err != nil {
			return nil, err
		}
		if *pair.dst, err = b64(cv); err != nil {
			return nil, err
		}
	}
	return &e, nil
}

// fingerprint identifies the token by its ciphertexts.
func (e *encrypted) fingerprint() [32]byte {
	h := sha256.New()
	h.Write(e.wrapped)
	h.Write(e.cipherTxt)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// decrypt unwraps the session key with priv and decrypts the data. Every
// failure after the algorithm checks is the same error, so the answers
// cannot be used as a padding oracle.
func (e *encrypted) decrypt(priv *rsa.PrivateKey) ([]byte, error) {
	keyLen, ok := dataAlgorithms[e.dataAlg]
	if !ok {
		return nil, fmt.Errorf("%w: data algorithm %q", ErrAlgorithm, e.dataAlg)
	}
	var key []byte
	switch e.keyAlg {
	case algRSAOAEP:
		k, err := rsa.DecryptOAEP(sha1.New(), nil, priv, e.wrapped, nil)
		if err != nil {
			return nil, ErrDecrypt
		}
		key = k
	case algRSA15:
		// A random key of the right length on failure, so a bad padding and
		// a bad plaintext fail alike later (RFC 3218 2.3.2).
		key = make([]byte, keyLen)
		rand.Read(key)
		if err := rsa.DecryptPKCS1v15SessionKey(nil, priv, e.wrapped, key); err != nil {
			return nil, ErrDecrypt
		}
	default:
		return nil, fmt.Errorf("%w: key transport %q", ErrAlgorithm, e.keyAlg)
	}
	if len(key) != keyLen {
		return nil, ErrDecrypt
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrDecrypt
	}
	ct := e.cipherTxt
	if len(ct) < 2*aes.BlockSize || len(ct)%aes.BlockSize != 0 {
		return nil, ErrDecrypt
	}
	iv, body := ct[:aes.BlockSize], ct[aes.BlockSize:]
	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, body)
	// ISO 10126 padding: the last byte is the length; the others are
	// random and not checked (XML Encryption 5.2).
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, ErrDecrypt
	}
	return plain[:len(plain)-pad], nil
}

// encrypt is the issuing side: a fresh AES key for plaintext, wrapped for
// pub, named by ski.
func encrypt(plain []byte, pub *rsa.PublicKey, ski []byte, keyAlg, dataAlg string) (*etree.Element, error) {
	keyLen, ok := dataAlgorithms[dataAlg]
	if !ok {
		return nil, fmt.Errorf("%w: data algorithm %q", ErrAlgorithm, dataAlg)
	}
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	var wrapped []byte
	var err error
	switch keyAlg {
	case algRSAOAEP:
		wrapped, err = rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, key, nil)
	case algRSA15:
		wrapped, err = rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	default:
		return nil, fmt.Errorf("%w: key transport %q", ErrAlgorithm, keyAlg)
	}
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(bytes.Clone(plain), make([]byte, pad)...)
	rand.Read(padded[len(plain) : len(padded)-1])
	padded[len(padded)-1] = byte(pad)
	ct := make([]byte, aes.BlockSize+len(padded))
	if _, err := rand.Read(ct[:aes.BlockSize]); err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, ct[:aes.BlockSize]).CryptBlocks(ct[aes.BlockSize:], padded)

	ed := etree.NewElement("e:EncryptedData")
	ed.CreateAttr("xmlns:e", nsXEnc)
	ed.CreateAttr("Type", typeElement)
	ed.CreateElement("e:EncryptionMethod").CreateAttr("Algorithm", dataAlg)
	ki := ed.CreateElement("KeyInfo")
	ki.CreateAttr("xmlns", nsDSig)
	ek := ki.CreateElement("e:EncryptedKey")
	ek.CreateElement("e:EncryptionMethod").CreateAttr("Algorithm", keyAlg)
	eki := ek.CreateElement("KeyInfo")
	str := eki.CreateElement("o:SecurityTokenReference")
	str.CreateAttr("xmlns:o", nsWSSE)
	kid := str.CreateElement("o:KeyIdentifier")
	kid.CreateAttr("ValueType", valueSKI)
	kid.SetText(base64.StdEncoding.EncodeToString(ski))
	ek.CreateElement("e:CipherData").CreateElement("e:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("e:CipherData").CreateElement("e:CipherValue").SetText(base64.StdEncoding.EncodeToString(ct))
	return ed, nil
}

func newSHA1() hash.Hash { return sha1.New() }

func b64enc(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
