package flow

import "context"

// A call's goroutine lives as long as the call — half a minute or more, most of it
// waiting on Asterisk — and Go keeps a goroutine's stack at the largest size it ever
// needed until a collection finds it mostly unused. The back ends' work is deep (an HTTP
// round trip and its JSON, SQLite's virtual machine) and grew every call's stack to
// 16–32 KiB, which thousands of calls in progress then held. So each back-end request
// runs on a goroutine of its own, whose stack goes back to the runtime when the request
// ends. The call waits for it, so nothing else changes: the same context, the same
// order, and a panic comes back to the call's goroutine (and to runSafely).

// aside runs f on a goroutine of its own and returns when f has.
func aside(f func()) {
	var p any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { p = recover() }()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}

// asideDirectory runs each request of a Directory aside.
type asideDirectory struct{ d Directory }

func (a asideDirectory) FindByPhone(ctx context.Context, e164 string) (cs []Customer, err error) {
	aside(func() { cs, err = a.d.FindByPhone(ctx, e164) })
	return cs, err
}

func (a asideDirectory) FindBy(ctx context.Context, kind, value string) (c *Customer, err error) {
	aside(func() { c, err = a.d.FindBy(ctx, kind, value) })
	return c, err
}

func (a asideDirectory) Verify(ctx context.Context, factor, id string, secret Secret) (v Verdict, err error) {
	aside(func() { v, err = a.d.Verify(ctx, factor, id, secret) })
	return v, err
}

func (a asideDirectory) SendCode(ctx context.Context, c Customer, code Secret) (err error) {
	aside(func() { err = a.d.SendCode(ctx, c, code) })
	return err
}

// asideGuard runs each query of a Guard, and of the attempts it reserves, aside.
type asideGuard struct{ g Guard }

func (a asideGuard) VerifyLimit(ctx context.Context, customerID, caller string) (l Limit, err error) {
	aside(func() { l, err = a.g.VerifyLimit(ctx, customerID, caller) })
	return l, err
}

func (a asideGuard) ReserveVerify(ctx context.Context, customerID, caller string) (at Attempt, l Limit, err error) {
	aside(func() { at, l, err = a.g.ReserveVerify(ctx, customerID, caller) })
	if at != nil {
		at = asideAttempt{at}
	}
	return at, l, err
}

func (a asideGuard) CountIdentify(ctx context.Context, caller string) (l Limit, err error) {
	aside(func() { l, err = a.g.CountIdentify(ctx, caller) })
	return l, err
}

type asideAttempt struct{ a Attempt }

func (a asideAttempt) Settle(ctx context.Context, outcome AttemptOutcome) (l Limit, err error) {
	aside(func() { l, err = a.a.Settle(ctx, outcome) })
	return l, err
}
