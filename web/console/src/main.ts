import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import 'leaflet/dist/leaflet.css'
import 'leaflet.markercluster/dist/MarkerCluster.css'
import 'leaflet.markercluster/dist/MarkerCluster.Default.css'
import App from './App.vue'
import { currentLocale, i18n, setLocale } from './i18n'
import { router } from './router'
import { session } from './session'
import './style.css'

setLocale(currentLocale(), false)
// Tokens refused (revoked, expired refresh): back to the sign-in page.
router.afterEach(() => {
  session.signedOut = false
})
createApp(App).use(ElementPlus).use(i18n).use(router).mount('#app')
