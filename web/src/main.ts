import { createApp } from 'vue'
import {
  Button,
  Cell,
  CellGroup,
  Empty,
  Field,
  Form,
  Icon,
  Loading,
  NavBar,
  Popup,
  Search,
  Tabbar,
  TabbarItem,
  Tag,
} from 'vant'
// Only the styles of the components used (the whole Vant stylesheet is 4× larger).
import 'vant/es/button/style/index'
import 'vant/es/cell/style/index'
import 'vant/es/cell-group/style/index'
import 'vant/es/empty/style/index'
import 'vant/es/field/style/index'
import 'vant/es/form/style/index'
import 'vant/es/icon/style/index'
import 'vant/es/loading/style/index'
import 'vant/es/nav-bar/style/index'
import 'vant/es/popup/style/index'
import 'vant/es/search/style/index'
import 'vant/es/tabbar/style/index'
import 'vant/es/tabbar-item/style/index'
import 'vant/es/tag/style/index'
import App from './App.vue'
import { applyInitialLocale, i18n } from './i18n'
import { router } from './router'
import { restoreSession, start } from './state'
import './style.css'

applyInitialLocale()
if (restoreSession()) start()

const app = createApp(App)
for (const c of [
  Button,
  Cell,
  CellGroup,
  Empty,
  Field,
  Form,
  Icon,
  Loading,
  NavBar,
  Popup,
  Search,
  Tabbar,
  TabbarItem,
  Tag,
]) {
  app.use(c)
}
app.use(i18n).use(router).mount('#app')

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`, {
    scope: import.meta.env.BASE_URL,
  })
}
