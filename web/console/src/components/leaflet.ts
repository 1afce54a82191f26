/**
 * Leaflet with the cluster plugin, and a map on the console's terms: the server's tiles over a
 * drawn grid, so that with no tile reachable (offline, a closed network, a blocked tile host)
 * the points still show on the grid. The cluster plugin extends the global `L` Leaflet sets.
 */
import L from 'leaflet'
import 'leaflet.markercluster'
import { tiles } from '../lib/tiles'

export { L }

export function createMap(el: HTMLElement, options: L.MapOptions = {}): L.Map {
  el.classList.add('fp-map')
  const map = L.map(el, { zoomControl: true, attributionControl: true, maxZoom: 19, ...options })
  map.setView([31.23, 121.47], 11) // until the points are known
  void tiles().then((t) => {
    if (!t.url) return
    L.tileLayer(t.url, { attribution: t.attribution, maxZoom: 19, crossOrigin: true }).addTo(map)
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
