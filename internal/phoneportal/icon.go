package phoneportal

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"sync"
)

// The app's icon: a white check mark on the pages' accent colour, drawn
// here rather than shipped, in the sizes browsers ask for. The mark stays
// inside the central circle that maskable icons keep, so one image serves
// both purposes.

const (
	appleIconSize    = 180 // apple-touch-icon
	maskableIconSize = 512
)

var iconSizes = []int{appleIconSize, 192, maskableIconSize}

// iconPNGs are made on first use, once per size.
var iconPNGs = func() map[int]func() []byte {
	m := make(map[int]func() []byte, len(iconSizes))
	for _, size := range iconSizes {
		m[size] = sync.OnceValue(func() []byte { return drawIcon(size) })
	}
	return m
}()

func iconPath(size int) string { return Prefix + "icon-" + strconv.Itoa(size) + ".png" }

func (h *Handler) icon(size int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		hd := w.Header()
		hd.Set("Content-Type", "image/png")
		hd.Set("Cache-Control", "public, max-age=86400")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		_, _ = w.Write(iconPNGs[size]())
	}
}

// drawIcon renders the icon at size×size pixels, anti-aliased.
func drawIcon(size int) []byte {
	bg := color.NRGBA{R: 0x00, G: 0x67, B: 0xb8, A: 0xff}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	// The check mark: two strokes through these points (in units of the
	// icon's side), well inside the maskable safe zone (radius 0.4).
	type pt struct{ x, y float64 }
	a, b, c := pt{0.30, 0.52}, pt{0.44, 0.66}, pt{0.71, 0.37}
	half := 0.045 * s // half the stroke width, in pixels
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			d := math.Min(segmentDistance(px, py, a.x*s, a.y*s, b.x*s, b.y*s),
				segmentDistance(px, py, b.x*s, b.y*s, c.x*s, c.y*s))
			// Coverage of the pixel by the stroke, for smooth edges.
			cover := math.Max(0, math.Min(1, half-d+0.5))
			img.SetNRGBA(x, y, color.NRGBA{
				R: mix(bg.R, 0xff, cover), G: mix(bg.G, 0xff, cover), B: mix(bg.B, 0xff, cover), A: 0xff,
			})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("phoneportal: icon: " + err.Error()) // writing to memory
	}
	return buf.Bytes()
}

// segmentDistance is the distance from (px, py) to the segment (ax, ay)–(bx, by).
func segmentDistance(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}

func mix(from, to uint8, f float64) uint8 {
	return uint8(math.Round(float64(from) + (float64(to)-float64(from))*f))
}
