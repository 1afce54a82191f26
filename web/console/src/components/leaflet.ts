/**
 * Leaflet with the cluster plugin, and a map on the console's terms: the org's tiles (its
 * `map_provider`: the server's, or AMap's or Tencent's) over a drawn grid, so that with no tile
 * reachable (offline, a closed network, a blocked tile host) the points still show on the grid.
 * The cluster plugin extends the global `L` Leaflet sets.
 *
 * Positions are WGS-84 in the API and GCJ-02 on AMap's and Tencent's tiles: what a map draws goes
 * through `at()`, what the user draws or drags comes back through `wgs84()`.
 */
import L from 'leaflet'
import 'leaflet.markercluster'
import { onBeforeUnmount, onMounted, watch, type Ref, type WatchSource } from 'vue'
import type { LatLng } from '../lib/fence'
import { gcj02ToWgs84, wgs84ToGcj02 } from '../lib/gcj02'
import { isGcj02, tiles } from '../lib/tiles'
import { session } from '../session'

export { L }

const provider = () => session.me?.org.map_provider ?? 'osm'

/** A WGS-84 position (as the API has it) where the org's tiles draw it. */
export function at(lat: number, lng: number): L.LatLng {
  const p = isGcj02(provider()) ? wgs84ToGcj02(lat, lng) : { lat, lng }
  return L.latLng(p.lat, p.lng)
}

/** A position on the org's tiles (drawn, dragged) in WGS-84, as the API takes it. */
export function wgs84(p: L.LatLng): LatLng {
  return isGcj02(provider()) ? gcj02ToWgs84(p.lat, p.lng) : { lat: p.lat, lng: p.lng }
}

export function createMap(el: HTMLElement, options: L.MapOptions = {}): L.Map {
  el.classList.add('fp-map')
  const map = L.map(el, { zoomControl: true, attributionControl: true, maxZoom: 19, ...options })
  // The view on the element (the tiles' datum), for tests and tools: where a pixel is.
  const p = provider()
  el.dataset.provider = p
  map.on('moveend zoomend viewreset resize', () => {
    const c = map.getCenter()
    el.dataset.center = `${c.lat},${c.lng}`
    el.dataset.zoom = String(map.getZoom())
  })
  map.setView(at(31.23, 121.47), 11) // until the points are known
  void tiles(p).then((t) => {
    if (!t.url) return
    // The providers' tile hosts send no CORS headers: their images are loaded plain.
    L.tileLayer(t.url, { attribution: t.attribution, subdomains: t.subdomains ?? 'abc', maxZoom: 19, crossOrigin: !isGcj02(p) }).addTo(map)
  })
  return map
}

/** A round pin in a status colour; `data-*` name the person for tests and styling. */
export function pin(colour: string, attrs: Record<string, string>, size = 16): L.DivIcon {
  const data = Object.entries(attrs)
    .map(([k, v]) => ` data-${k}="${v.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`)}"`)
    .join('')
  return L.divIcon({
    className: '',
    html: `<span class="fp-pin" style="background:${colour};width:${size}px;height:${size}px"${data}></span>`,
    iconSize: [size, size],
    iconAnchor: [size / 2, size / 2],
  })
}

/**
 * Remove a map, after its zoom animation if one runs: Leaflet ends a zoom from a timer it cannot
 * cancel, which fails on a removed map (`_leaflet_pos` of undefined) when a page closes mid-zoom.
 */
export function removeMap(map: L.Map): void {
  const animating = (map as unknown as { _animatingZoom?: boolean })._animatingZoom
  map.stop()
  if (animating) setTimeout(() => map.remove(), 300)
  else map.remove()
}

/**
 * A map in `el` that `draw` fills afresh each time (a new layer group, the old one removed): once
 * mounted, then whenever `source` changes; removed with the component. No animations: what it
 * shows is replaced often, mid-animation.
 */
export function useDrawnMap(
  el: Ref<HTMLElement | null>,
  source: WatchSource,
  draw: (layer: L.LayerGroup, map: L.Map) => void,
  options: L.MapOptions = {},
): void {
  let map: L.Map | null = null
  let layer: L.LayerGroup | null = null
  function redraw(): void {
    if (!map) return
    layer?.remove()
    layer = L.layerGroup().addTo(map)
    draw(layer, map)
  }
  onMounted(() => {
    map = createMap(el.value!, { zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, ...options })
    redraw()
  })
  onBeforeUnmount(() => {
    if (map) removeMap(map)
    map = null
  })
  watch(source, redraw)
}
