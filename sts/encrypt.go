package sts

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
)

// ErrAlgorithm: an algorithm the token format does not list. docs/protocol.md §4.3.
var ErrAlgorithm = errors.New("sts: algorithm not in the token format")

// encrypt is the issuing side of XML Encryption: a fresh 3DES or AES key for
// plaintext, wrapped for pub, named by ski. federation's decrypt is the
// other side.
func encrypt(plain []byte, pub *rsa.PublicKey, ski []byte, keyAlg, dataAlg string) (*etree.Element, error) {
	keyLen, ok := fedtoken.DataKeyLength(dataAlg)
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
		//lint:ignore SA1019 the development issuer can mint this variant to test the validator
		wrapped, err = rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	default:
		return nil, fmt.Errorf("%w: key transport %q", ErrAlgorithm, keyAlg)
	}
	if err != nil {
		return nil, err
	}
	var block cipher.Block
	if dataAlg == fedtoken.AlgTripleDESCBC {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize() // 8 for 3DES, 16 for AES; the IV is one block
	pad := bs - len(plain)%bs
	padded := append(bytes.Clone(plain), make([]byte, pad)...)
	rand.Read(padded[len(plain) : len(padded)-1])
	padded[len(padded)-1] = byte(pad)
	ct := make([]byte, bs+len(padded))
	if _, err := rand.Read(ct[:bs]); err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(block, ct[:bs]).CryptBlocks(ct[bs:], padded)

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
	kid.CreateAttr("EncodingType", fedtoken.EncodingBase64)
	kid.CreateAttr("ValueType", valueSKI)
	kid.SetText(base64.StdEncoding.EncodeToString(ski))
	ek.CreateElement("e:CipherData").CreateElement("e:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("e:CipherData").CreateElement("e:CipherValue").SetText(base64.StdEncoding.EncodeToString(ct))
	return ed, nil
}
