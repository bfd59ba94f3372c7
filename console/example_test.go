package console_test

import (
	"log"
	"net/http"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/console"
	"github.com/calfed/calfed/doctor"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// The console beside the admin API on one loopback listener, behind the
// same token, as server.AdminRoutes mounts them.
func ExampleHandler_Routes() {
	var db *store.DB      // the store (store.Open)
	var tr *trust.Service // the federation trust over it (config.TrustService)
	const token = "…"     // the admin token (admin.token_file)
	api := admin.NewService(db, tr, nil)
	c, err := console.New(console.Options{API: api, Checker: &doctor.Checker{Records: db, Trust: tr}, Trust: tr,
		Activity: console.AccessLog{API: api}, Token: token})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range append(admin.NewHandler(api, token, nil).Routes(), c.Routes()...) {
		mux.Handle(rt.Method+" "+rt.Path, rt.Handler)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", mux))
}
