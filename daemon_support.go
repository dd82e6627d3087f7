package wbpay

// IsRecovered reports, without waiting, whether start-up recovery has
// finished (WaitRecovered would return at once). The daemon answers its
// request methods with 503 L0004 and health "recovering" until then.
func (e *Engine) IsRecovered() bool {
	select {
	case <-e.recovered:
		return true
	default:
		return false
	}
}
