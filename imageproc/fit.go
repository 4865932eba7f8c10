package imageproc

// FitSize is the size Process makes of a w x h image (as displayed) with
// MaxWidth maxW and MaxHeight maxH: the aspect ratio kept, never grown, 0
// meaning no bound. Callers that announce a size before resizing (the
// variant links) use it so that they state exactly what Process writes.
func FitSize(w, h, maxW, maxH int) (int, int) { return fitSize(w, h, maxW, maxH) }
