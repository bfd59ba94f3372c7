package outbound_test

import (
	"fmt"
	"time"

	"github.com/calfed/calfed/internal/outbound"
)

func Example() {
	o, err := outbound.New(outbound.Config{Proxy: "http://proxy.internal:3128", NoProxy: []string{".nhs.example", "10.0.0.0/8"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	hc := o.HTTP(30 * time.Second) // every outbound call shares o's transport
	_ = hc
	fmt.Println(o.Config())
	// Output: proxy http://proxy.internal:3128, directly to .nhs.example, 10.0.0.0/8
}
