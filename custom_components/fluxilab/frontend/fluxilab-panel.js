/* FluxiLab panel: built from frontend/src by `npm run build` (esbuild). Do not edit. */
var vi=Object.defineProperty;var yi=Object.getOwnPropertyDescriptor;var m=(a,t,e,i)=>{for(var n=i>1?void 0:i?yi(t,e):t,r=a.length-1,s;r>=0;r--)(s=a[r])&&(n=(i?s(t,e,n):s(n))||n);return i&&n&&vi(t,e,n),n};var we=globalThis,Se=we.ShadowRoot&&(we.ShadyCSS===void 0||we.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,We=Symbol(),ht=new WeakMap,de=class{constructor(t,e,i){if(this._$cssResult$=!0,i!==We)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(Se&&t===void 0){let i=e!==void 0&&e.length===1;i&&(t=ht.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),i&&ht.set(e,t))}return t}toString(){return this.cssText}},_t=a=>new de(typeof a=="string"?a:a+"",void 0,We),ce=(a,...t)=>{let e=a.length===1?a[0]:t.reduce((i,n,r)=>i+(s=>{if(s._$cssResult$===!0)return s.cssText;if(typeof s=="number")return s;throw Error("Value passed to 'css' function must be a 'css' function result: "+s+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(n)+a[r+1],a[0]);return new de(e,a,We)},bt=(a,t)=>{if(Se)a.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let i=document.createElement("style"),n=we.litNonce;n!==void 0&&i.setAttribute("nonce",n),i.textContent=e.cssText,a.appendChild(i)}},Ge=Se?a=>a:a=>a instanceof CSSStyleSheet?(t=>{let e="";for(let i of t.cssRules)e+=i.cssText;return _t(e)})(a):a;var{is:$i,defineProperty:xi,getOwnPropertyDescriptor:ki,getOwnPropertyNames:wi,getOwnPropertySymbols:Si,getPrototypeOf:Ai}=Object,Ae=globalThis,ft=Ae.trustedTypes,Ei=ft?ft.emptyScript:"",Pi=Ae.reactiveElementPolyfillSupport,me=(a,t)=>a,ue={toAttribute(a,t){switch(t){case Boolean:a=a?Ei:null;break;case Object:case Array:a=a==null?a:JSON.stringify(a)}return a},fromAttribute(a,t){let e=a;switch(t){case Boolean:e=a!==null;break;case Number:e=a===null?null:Number(a);break;case Object:case Array:try{e=JSON.parse(a)}catch{e=null}}return e}},Ee=(a,t)=>!$i(a,t),gt={attribute:!0,type:String,converter:ue,reflect:!1,useDefault:!1,hasChanged:Ee};Symbol.metadata??=Symbol("metadata"),Ae.litPropertyMetadata??=new WeakMap;var D=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=gt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let i=Symbol(),n=this.getPropertyDescriptor(t,i,e);n!==void 0&&xi(this.prototype,t,n)}}static getPropertyDescriptor(t,e,i){let{get:n,set:r}=ki(this.prototype,t)??{get(){return this[e]},set(s){this[e]=s}};return{get:n,set(s){let d=n?.call(this);r?.call(this,s),this.requestUpdate(t,d,i)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??gt}static _$Ei(){if(this.hasOwnProperty(me("elementProperties")))return;let t=Ai(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(me("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(me("properties"))){let e=this.properties,i=[...wi(e),...Si(e)];for(let n of i)this.createProperty(n,e[n])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[i,n]of e)this.elementProperties.set(i,n)}this._$Eh=new Map;for(let[e,i]of this.elementProperties){let n=this._$Eu(e,i);n!==void 0&&this._$Eh.set(n,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let i=new Set(t.flat(1/0).reverse());for(let n of i)e.unshift(Ge(n))}else t!==void 0&&e.push(Ge(t));return e}static _$Eu(t,e){let i=e.attribute;return i===!1?void 0:typeof i=="string"?i:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let i of e.keys())this.hasOwnProperty(i)&&(t.set(i,this[i]),delete this[i]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return bt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,i){this._$AK(t,i)}_$ET(t,e){let i=this.constructor.elementProperties.get(t),n=this.constructor._$Eu(t,i);if(n!==void 0&&i.reflect===!0){let r=(i.converter?.toAttribute!==void 0?i.converter:ue).toAttribute(e,i.type);this._$Em=t,r==null?this.removeAttribute(n):this.setAttribute(n,r),this._$Em=null}}_$AK(t,e){let i=this.constructor,n=i._$Eh.get(t);if(n!==void 0&&this._$Em!==n){let r=i.getPropertyOptions(n),s=typeof r.converter=="function"?{fromAttribute:r.converter}:r.converter?.fromAttribute!==void 0?r.converter:ue;this._$Em=n;let d=s.fromAttribute(e,r.type);this[n]=d??this._$Ej?.get(n)??d,this._$Em=null}}requestUpdate(t,e,i,n=!1,r){if(t!==void 0){let s=this.constructor;if(n===!1&&(r=this[t]),i??=s.getPropertyOptions(t),!((i.hasChanged??Ee)(r,e)||i.useDefault&&i.reflect&&r===this._$Ej?.get(t)&&!this.hasAttribute(s._$Eu(t,i))))return;this.C(t,e,i)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:i,reflect:n,wrapped:r},s){i&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,s??e??this[t]),r!==!0||s!==void 0)||(this._$AL.has(t)||(this.hasUpdated||i||(e=void 0),this._$AL.set(t,e)),n===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[n,r]of this._$Ep)this[n]=r;this._$Ep=void 0}let i=this.constructor.elementProperties;if(i.size>0)for(let[n,r]of i){let{wrapped:s}=r,d=this[n];s!==!0||this._$AL.has(n)||d===void 0||this.C(n,void 0,r,d)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(i=>i.hostUpdate?.()),this.update(e)):this._$EM()}catch(i){throw t=!1,this._$EM(),i}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};D.elementStyles=[],D.shadowRootOptions={mode:"open"},D[me("elementProperties")]=new Map,D[me("finalized")]=new Map,Pi?.({ReactiveElement:D}),(Ae.reactiveElementVersions??=[]).push("2.1.2");var Ze=globalThis,vt=a=>a,Pe=Ze.trustedTypes,yt=Pe?Pe.createPolicy("lit-html",{createHTML:a=>a}):void 0,Je="$lit$",j=`lit$${Math.random().toFixed(9).slice(2)}$`,Qe="?"+j,Ti=`<${Qe}>`,Z=document,he=()=>Z.createComment(""),_e=a=>a===null||typeof a!="object"&&typeof a!="function",Xe=Array.isArray,At=a=>Xe(a)||typeof a?.[Symbol.iterator]=="function",Ye=`[ 	
\f\r]`,pe=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,$t=/-->/g,xt=/>/g,G=RegExp(`>|${Ye}(?:([^\\s"'>=/]+)(${Ye}*=${Ye}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),kt=/'/g,wt=/"/g,Et=/^(?:script|style|textarea|title)$/i,Ve=a=>(t,...e)=>({_$litType$:a,strings:t,values:e}),o=Ve(1),Pt=Ve(2),un=Ve(3),q=Symbol.for("lit-noChange"),u=Symbol.for("lit-nothing"),St=new WeakMap,Y=Z.createTreeWalker(Z,129);function Tt(a,t){if(!Xe(a)||!a.hasOwnProperty("raw"))throw Error("invalid template strings array");return yt!==void 0?yt.createHTML(t):t}var zt=(a,t)=>{let e=a.length-1,i=[],n,r=t===2?"<svg>":t===3?"<math>":"",s=pe;for(let d=0;d<e;d++){let l=a[d],p,b,c=-1,_=0;for(;_<l.length&&(s.lastIndex=_,b=s.exec(l),b!==null);)_=s.lastIndex,s===pe?b[1]==="!--"?s=$t:b[1]!==void 0?s=xt:b[2]!==void 0?(Et.test(b[2])&&(n=RegExp("</"+b[2],"g")),s=G):b[3]!==void 0&&(s=G):s===G?b[0]===">"?(s=n??pe,c=-1):b[1]===void 0?c=-2:(c=s.lastIndex-b[2].length,p=b[1],s=b[3]===void 0?G:b[3]==='"'?wt:kt):s===wt||s===kt?s=G:s===$t||s===xt?s=pe:(s=G,n=void 0);let g=s===G&&a[d+1].startsWith("/>")?" ":"";r+=s===pe?l+Ti:c>=0?(i.push(p),l.slice(0,c)+Je+l.slice(c)+j+g):l+j+(c===-2?d:g)}return[Tt(a,r+(a[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),i]},be=class a{constructor({strings:t,_$litType$:e},i){let n;this.parts=[];let r=0,s=0,d=t.length-1,l=this.parts,[p,b]=zt(t,e);if(this.el=a.createElement(p,i),Y.currentNode=this.el.content,e===2||e===3){let c=this.el.content.firstChild;c.replaceWith(...c.childNodes)}for(;(n=Y.nextNode())!==null&&l.length<d;){if(n.nodeType===1){if(n.hasAttributes())for(let c of n.getAttributeNames())if(c.endsWith(Je)){let _=b[s++],g=n.getAttribute(c).split(j),y=/([.?@])?(.*)/.exec(_);l.push({type:1,index:r,name:y[2],strings:g,ctor:y[1]==="."?ze:y[1]==="?"?Re:y[1]==="@"?Ne:Q}),n.removeAttribute(c)}else c.startsWith(j)&&(l.push({type:6,index:r}),n.removeAttribute(c));if(Et.test(n.tagName)){let c=n.textContent.split(j),_=c.length-1;if(_>0){n.textContent=Pe?Pe.emptyScript:"";for(let g=0;g<_;g++)n.append(c[g],he()),Y.nextNode(),l.push({type:2,index:++r});n.append(c[_],he())}}}else if(n.nodeType===8)if(n.data===Qe)l.push({type:2,index:r});else{let c=-1;for(;(c=n.data.indexOf(j,c+1))!==-1;)l.push({type:7,index:r}),c+=j.length-1}r++}}static createElement(t,e){let i=Z.createElement("template");return i.innerHTML=t,i}};function J(a,t,e=a,i){if(t===q)return t;let n=i!==void 0?e._$Co?.[i]:e._$Cl,r=_e(t)?void 0:t._$litDirective$;return n?.constructor!==r&&(n?._$AO?.(!1),r===void 0?n=void 0:(n=new r(a),n._$AT(a,e,i)),i!==void 0?(e._$Co??=[])[i]=n:e._$Cl=n),n!==void 0&&(t=J(a,n._$AS(a,t.values),n,i)),t}var Te=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:i}=this._$AD,n=(t?.creationScope??Z).importNode(e,!0);Y.currentNode=n;let r=Y.nextNode(),s=0,d=0,l=i[0];for(;l!==void 0;){if(s===l.index){let p;l.type===2?p=new re(r,r.nextSibling,this,t):l.type===1?p=new l.ctor(r,l.name,l.strings,this,t):l.type===6&&(p=new Ce(r,this,t)),this._$AV.push(p),l=i[++d]}s!==l?.index&&(r=Y.nextNode(),s++)}return Y.currentNode=Z,n}p(t){let e=0;for(let i of this._$AV)i!==void 0&&(i.strings!==void 0?(i._$AI(t,i,e),e+=i.strings.length-2):i._$AI(t[e])),e++}},re=class a{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,i,n){this.type=2,this._$AH=u,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=i,this.options=n,this._$Cv=n?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=J(this,t,e),_e(t)?t===u||t==null||t===""?(this._$AH!==u&&this._$AR(),this._$AH=u):t!==this._$AH&&t!==q&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):At(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==u&&_e(this._$AH)?this._$AA.nextSibling.data=t:this.T(Z.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:i}=t,n=typeof i=="number"?this._$AC(t):(i.el===void 0&&(i.el=be.createElement(Tt(i.h,i.h[0]),this.options)),i);if(this._$AH?._$AD===n)this._$AH.p(e);else{let r=new Te(n,this),s=r.u(this.options);r.p(e),this.T(s),this._$AH=r}}_$AC(t){let e=St.get(t.strings);return e===void 0&&St.set(t.strings,e=new be(t)),e}k(t){Xe(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,i,n=0;for(let r of t)n===e.length?e.push(i=new a(this.O(he()),this.O(he()),this,this.options)):i=e[n],i._$AI(r),n++;n<e.length&&(this._$AR(i&&i._$AB.nextSibling,n),e.length=n)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let i=vt(t).nextSibling;vt(t).remove(),t=i}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},Q=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,i,n,r){this.type=1,this._$AH=u,this._$AN=void 0,this.element=t,this.name=e,this._$AM=n,this.options=r,i.length>2||i[0]!==""||i[1]!==""?(this._$AH=Array(i.length-1).fill(new String),this.strings=i):this._$AH=u}_$AI(t,e=this,i,n){let r=this.strings,s=!1;if(r===void 0)t=J(this,t,e,0),s=!_e(t)||t!==this._$AH&&t!==q,s&&(this._$AH=t);else{let d=t,l,p;for(t=r[0],l=0;l<r.length-1;l++)p=J(this,d[i+l],e,l),p===q&&(p=this._$AH[l]),s||=!_e(p)||p!==this._$AH[l],p===u?t=u:t!==u&&(t+=(p??"")+r[l+1]),this._$AH[l]=p}s&&!n&&this.j(t)}j(t){t===u?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},ze=class extends Q{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===u?void 0:t}},Re=class extends Q{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==u)}},Ne=class extends Q{constructor(t,e,i,n,r){super(t,e,i,n,r),this.type=5}_$AI(t,e=this){if((t=J(this,t,e,0)??u)===q)return;let i=this._$AH,n=t===u&&i!==u||t.capture!==i.capture||t.once!==i.once||t.passive!==i.passive,r=t!==u&&(i===u||n);n&&this.element.removeEventListener(this.name,this,i),r&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},Ce=class{constructor(t,e,i){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=i}get _$AU(){return this._$AM._$AU}_$AI(t){J(this,t)}},Rt={M:Je,P:j,A:Qe,C:1,L:zt,R:Te,D:At,V:J,I:re,H:Q,N:Re,U:Ne,B:ze,F:Ce},zi=Ze.litHtmlPolyfillSupport;zi?.(be,re),(Ze.litHtmlVersions??=[]).push("3.3.3");var Nt=(a,t,e)=>{let i=e?.renderBefore??t,n=i._$litPart$;if(n===void 0){let r=e?.renderBefore??null;i._$litPart$=n=new re(t.insertBefore(he(),r),r,void 0,e??{})}return n._$AI(a),n};var et=globalThis,A=class extends D{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=Nt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return q}};A._$litElement$=!0,A.finalized=!0,et.litElementHydrateSupport?.({LitElement:A});var Ri=et.litElementPolyfillSupport;Ri?.({LitElement:A});(et.litElementVersions??=[]).push("4.2.2");var Ni={attribute:!0,type:String,converter:ue,reflect:!1,hasChanged:Ee},Ci=(a=Ni,t,e)=>{let{kind:i,metadata:n}=e,r=globalThis.litPropertyMetadata.get(n);if(r===void 0&&globalThis.litPropertyMetadata.set(n,r=new Map),i==="setter"&&((a=Object.create(a)).wrapped=!0),r.set(e.name,a),i==="accessor"){let{name:s}=e;return{set(d){let l=t.get.call(this);t.set.call(this,d),this.requestUpdate(s,l,a,!0,d)},init(d){return d!==void 0&&this.C(s,void 0,a,d),d}}}if(i==="setter"){let{name:s}=e;return function(d){let l=this[s];t.call(this,d),this.requestUpdate(s,l,a,!0,d)}}throw Error("Unsupported decorator location: "+i)};function k(a){return(t,e)=>typeof e=="object"?Ci(a,t,e):((i,n,r)=>{let s=n.hasOwnProperty(r);return n.constructor.createProperty(r,i),s?Object.getOwnPropertyDescriptor(n,r):void 0})(a,t,e)}function h(a){return k({...a,state:!0,attribute:!1})}var Me=class{constructor(t){this.hass=t}send(t,e={}){return this.hass().connection.sendMessagePromise({type:`fluxilab/${t}`,...e})}recorded(t,e){return this.hass().connection.sendMessagePromise({type:"history/history_during_period",start_time:e.toISOString(),entity_ids:t,minimal_response:!0,no_attributes:!0,significant_changes_only:!1})}lab(){return this.send("panel/lab")}subscribeLab(t){return this.hass().connection.subscribeMessage(t,{type:"fluxilab/panel/subscribe"})}open(t){let e=Li();return this.send("panel/open",{device_id:t,...e?{back:e}:{}})}profile(){return this.send("panel/profile")}changePin(t,e){return this.send("panel/change_pin",{new_pin:t,current_pin:e})}adminState(){return this.send("panel/admin/state")}memberCreate(t){return this.send("panel/admin/member_create",{...t})}memberUpdate(t,e){return this.send("panel/admin/member_update",{member_id:t,...e})}memberDelete(t){return this.send("panel/admin/member_delete",{member_id:t})}assignCard(t,e){return this.send("panel/admin/assign_card",{member_id:t,card:e})}memberFromCard(t,e,i=!1){return this.send("panel/admin/member_from_card",{card:t,name:e,...i?{allow_same_name:!0}:{}})}importMembers(t,e,i){return this.send("members/import",{csv_text:t,dry_run:e,strict:i})}exportMembers(){return this.send("members/export")}grant(t){return this.send("panel/admin/grant",{...t})}revoke(t){return this.send("panel/admin/revoke",{authorization_id:t})}block(t,e){return this.send("panel/admin/block",{device_id:t,blocked:e})}recordMaintenance(t,e){return this.send("panel/admin/record_maintenance",e?{device_id:t,note:e}:{device_id:t})}maintenanceLog(t,e){return this.send("panel/admin/maintenance_log",e?{device_id:t,before:e}:{device_id:t})}async maintenanceCsv(t){let e=this.hass();if(!e.fetchWithAuth)throw new Error("no_fetch");let i=new URLSearchParams({device_id:t}),n=await e.fetchWithAuth(`/api/fluxilab/maintenance.csv?${i.toString()}`);if(!n.ok)throw new Error(`HTTP ${n.status}`);return n.text()}roles(){return this.send("role/list")}roleCreate(t){return this.send("role/create",{...t})}roleUpdate(t,e){return this.send("role/update",{role_id:t,...e})}roleDelete(t){return this.send("role/delete",{role_id:t})}projects(){return this.send("project/list")}projectCreate(t){return this.send("project/create",{...t})}projectDelete(t){return this.send("project/delete",{project_id:t})}setDefaultProject(t,e){return this.send("billing/set_default",{member_id:t,project_id:e})}statement(t,e){return this.send("billing/statement",{project_id:t,month:e})}setSessionCharge(t,e){return this.send("billing/set_session",{session_id:t,...e})}async statementCsv(t,e){let i=this.hass();if(!i.fetchWithAuth)throw new Error("no_fetch");let n=new URLSearchParams({project_id:t??"",month:e}),r=await i.fetchWithAuth(`/api/fluxilab/statement.csv?${n.toString()}`);if(!r.ok)throw new Error(`HTTP ${r.status}`);return r.text()}history(t){return this.send("panel/admin/history",{...t})}audit(t){return this.send("panel/admin/audit",{...t})}machineTypeSave(t){return this.send("panel/admin/machine_type_save",{...t})}machineTypeDelete(t){return this.send("panel/admin/machine_type_delete",{machine_type_id:t})}retention(t){return this.send("panel/admin/retention",{...t})}memberExport(t){return this.send("panel/admin/member_export",{member_id:t})}credentialAdd(t,e,i){return this.send("credentials/add",{member_id:t,credential_type:"card",card:e,...i?{label:i}:{}})}credentialUpdate(t,e,i){return this.send("credentials/update",{credential_id:t,active:e,...i?{member_id:i}:{}})}credentialRemove(t,e){return this.send("credentials/remove",{member_id:t,credential_id:e})}resetPin(t){return this.send("credentials/reset_pin",{member_id:t})}bookings(t,e,i){let n={};return t&&(n.fluxilab_device=t),e&&(n.start=e),i&&(n.end=i),this.send("booking/list",n)}book(t,e,i){return this.send("booking/create",{fluxilab_device:t,start:e,end:i})}cancelBooking(t){return this.send("booking/delete",{booking_id:t})}scheduleOutage(t,e,i,n){return this.send("outage/create",{fluxilab_device:t,start:e,end:i,note:n})}endOutage(t){return this.send("outage/delete",{outage_id:t})}problems(t,e=!0){let i={open_only:e};return t&&(i.fluxilab_device=t),this.send("problem/list",i)}reportProblem(t,e,i){return this.send("problem/report",{fluxilab_device:t,description:e,unsafe:i})}resolveProblem(t,e){return this.send("problem/resolve",{report_id:t,resolution:e})}interestList(){return this.send("interest/list")}interest(t,e){return this.send(e?"interest/subscribe":"interest/cancel",{fluxilab_device:t})}lapsingMine(){return this.send("lapsing/mine")}lapsingList(){return this.send("lapsing/list")}lapsingRenew(t){return this.send("lapsing/renew",{authorization_id:t})}notifyGet(){return this.send("notify/get")}notifySet(t){return this.send("notify/set",{notify_service:t})}notifySettings(t){return this.send("notify/settings",{...t??{}})}occupancy(){return this.send("occupancy/list")}occupancySettings(t){return this.send("occupancy/settings",{...t??{}})}check(t){return this.hass().callService("fluxilab",t,{})}},Ct=512;function Li(a=typeof location>"u"?void 0:location){if(!a)return;if(a.href.length<=Ct)return a.href;let t=a.origin+a.pathname;return t.length<=Ct?t:void 0}var fe={title:"FluxiLab",presence:"In the lab",people_in_lab:"People in the lab: {count}",nobody_in_lab:"Nobody is in the lab.",since:"Since",where:"Where",entrance:"checked in",print_list:"Print",check_in:"Check in",check_out:"Check out",checkin_expiry_hours:"Check-ins expire after (hours)",make_supervisor:"Make supervisor",remove_supervisor:"Not a supervisor",trainer:"Trainer",trained_by:"trained by {name}",requires_supervisor:"Requires a supervisor present",supervisor_minutes:"Supervisor counts for (minutes)",supervised_hours_start:"Unsupervised use from",supervised_hours_end:"Unsupervised use until",training_expiry_days:"Training authorizations last (days)",lab:"Lab",profile:"My profile",admin:"Admin",no_area:"Other equipment",no_devices:"There is no equipment you may use yet. Ask a lab admin for an authorization.",not_linked:"Your Home Assistant user is not linked to a lab member.",online:"Online",offline:"Offline",in_use:"In use",in_use_by:"In use by {name}",free:"Free",maintenance_due:"Maintenance due",blocked:"Blocked",not_paired:"Not paired",link_broken:"Link broken",link_broken_hint:"The hub refuses this device's messages: its keys differ from the hub's. A Home Assistant admin finds the fix under Settings → Repairs.",open:"Open",opening:"Opening…",open_refused:"The device's UI address is not a web address: ask an admin to check it.",no_ui:"No device UI",gateway_certificate:"Certificate fingerprint (SHA-256)",gateway_certificate_hint:"If your browser warns about this device's certificate, go on only if it shows this fingerprint.",hours_left:"{hours} h to maintenance",loading:"Loading…",member:"Member",role:"Role",role_admin:"Admin",role_staff:"Staff",role_user:"User",roles:"Roles",roles_hint:"A role is what its members may do. Admin, staff and user are built in and keep their flags; add the lab's own roles here. Managing the lab makes a role a lab admin; maintenance or supervising makes it staff; otherwise its members are lab members. A role some member has cannot be deleted.",role_built_in:"built in",role_flag_authorize_all:"Uses every machine",role_flag_maintenance:"Registers maintenance",role_flag_supervisor:"Supervises",role_flag_manage:"Manages the lab",role_flag_book_for_others:"Books for others",new_role:"Add role",role_saved:"Role {name} saved.",confirm_delete_role:"Delete the role {name}?",active:"Active",inactive:"Inactive",cards:"Cards",none:"None",authorizations:"Authorizations",expires:"Expires",never:"Never",expired:"Expired",hours:"Hours",sessions:"Recent sessions",device:"Device",start:"Start",end:"End",duration:"Duration",open_session:"open",recorded_offline:"Recorded offline at the device, sent later",recorded_offline_only:"Recorded offline only",change_pin:"Change device PIN / password",pin_hint:"At least 6 characters. Used at the devices' keypad and login page.",current_pin:"Current PIN",new_pin:"New PIN",repeat_pin:"Repeat new PIN",save:"Save",pin_mismatch:"The two new PINs differ.",pin_short:"A PIN needs at least 6 characters.",pin_changed:"Your PIN was changed.",pin_must_change:"Your PIN is an initial one from an admin: it does not work at the devices until you replace it here with one of your own.",current_initial_pin:"Current (initial) PIN",no_pin_yet:"You have no PIN yet: ask an admin to issue you one (Reset PIN), then replace it here.",members:"Members",devices:"Devices",unknown_cards:"Unknown cards",history:"Usage history",audit:"Audit log",name:"Name",email:"E-mail",linked_user:"Home Assistant user",no_user:"Not linked",create_login:"Create a Home Assistant login",login_username:"Username",login_password:"Password",deactivate_login:"Deactivate their Home Assistant login with the member",deactivate_login_short:"Login follows the member",login_hint:"The member signs in to Home Assistant with this login and opens their devices from this panel: no second password.",card:"Card",card_added:"added {date}",initial_pin:"Initial PIN",create_member:"Add member",create:"Add",delete:"Delete",confirm_delete:"Delete {name}? Their history is anonymized.",activate:"Activate",deactivate:"Deactivate",grant:"Grant",grant_to:"Grant to members",machine_type:"Machine type",revoke:"Revoke",block:"Block",unblock:"Unblock",record_maintenance:"Maintenance done",usage_hours:"Usage hours",seen_at:"Seen at",seen:"Seen",assign_to:"Assign to",assign:"Assign",filter:"Filter",all:"All",from:"From",to:"To",download_csv:"Download CSV",import_title:"Import and export",import_help:"Members, their cards and authorizations as CSV: member_id, name, email, role, active, cards (separated by ;), authorizations (machine types or device:<id>, each with an optional @YYYY-MM-DD expiry, separated by ;). A file is checked first and nothing is written until you import it.",import_file:"CSV file to import",import_strict:"Import nothing if any row is rejected",import_dry_run:"What importing {file} would do",import_applied:"Imported {file}",import_summary:"{create} new, {update} changed, {unchanged} unchanged, {reject} rejected.",import_line:"Line",import_action:"Action",import_details:"Changes or reason",import_action_create:"New",import_action_update:"Changed",import_action_unchanged:"Unchanged",import_action_reject:"Rejected",import_apply:"Import",import_done:"Imported: {create} new, {update} changed.",import_too_large:"The file is too large to import (at most {max} bytes).",new_member_name:"New member's name",create_member_from_card:"New member",time:"Time",kind:"Event",reason:"Reason",done:"Done.",refresh:"Refresh",has_pin:"PIN set",no_pin:"No PIN",target:"For",status:"Status",menu:"Menu",machine_types:"Machine types",settings:"Settings",new_type:"New machine type",edit:"Edit",session_timeout:"Session timeout (s)",grace_period:"Grace period (s)",requires_authorization:"Requires an authorization",maintenance_interval:"Maintenance every (usage hours)",maintenance_message:"Maintenance message on the device",maintenance:"Maintenance",maintenance_plan:"Maintenance plan",hours_to_maintenance:"Hours to maintenance",maintenance_description:"What to do at maintenance (shown on the device when due)",maintenance_url:"Maintenance instructions (http or https address)",maintenance_instructions:"Instructions",maintenance_no_plan:"No maintenance plan: set one on the machine type.",maintenance_note:"Note",maintenance_interventions:"Interventions",maintenance_none_yet:"No maintenance registered yet.",maintenance_since_previous:"Hours since the previous",block_when_maintenance_due:"Block when maintenance is due",require_pin:"Requires card + PIN at the device",offline_policy:"Without the hub (offline)",offline_default:"Default: deny if it has safety limits",offline_allow_mirrored:"Allow members in the device's mirror (their rules are checked there)",offline_deny:"Deny everyone",offline_max_age:"Offline for at most (hours without the hub)",busy_channel:"Busy while channel",busy_above:"is above",busy_delay:"Idle after (s) below it",maintenance_conditions:"Maintenance conditions (JSON list)",busy:"Working (telemetry)",condition_progress:"{text}: {value} of {target}",condition_channel_hours:"{channel} active: {value} of {target} h",condition_below_baseline:"{channel} below its baseline: {value} of {target} days",safety_channel:"Safety interlock: channel",safety_min:"minimum",safety_max:"maximum",safety:"Safety interlock",retention:"Retention",usage_retention_days:"Keep usage history (days)",unknown_card_retention_days:"Keep unknown cards (days)",show_member_names:"Show members' names on entities, in the logbook and in events (every Home Assistant user sees them; the recorder keeps them)",apply_retention:"Save and purge",purged:"{count} entries anonymized, {cards} unknown cards deleted.",gdpr_export:"Export a member's data (GDPR)",export:"Export",cancel:"Cancel",credentials:"Cards and PIN",credentials_of:"Cards and PIN of {name}",credential_label:"Label",credential_type:"Type",type_card:"Card",type_pin:"PIN",last_used:"Last used",never_used:"Never used",report_lost:"Report lost",confirm_lost:"Deactivate {label}? Devices refuse it at once; your other cards and PIN keep working. An admin can reactivate it.",add_credential:"Add card",reset_pin:"Reset PIN",confirm_reset_pin:"Issue {name} a new initial PIN? Their current PIN stops working at once; the new one is shown only now and works at no device until they replace it.",pin_issued:"Initial PIN for {name}: {pin} (shown only now). Give it to them: they replace it in their profile before using it at a device.",must_change:"must be changed",close:"Close",notify_when_free:"Tell me when it's free",waiting_position:"You'll be told (#{position})",stop_waiting:"Stop waiting",lapsing:"Lapsing",lapse_date:"Lapses",lapsed:"Lapsed",lapse_cause_inactivity:"unused",lapse_cause_expires:"expires",lapse_never:"Never",renew:"Renew",lapsing_none:"No authorization lapses within {days} days.",lapsing_hint:"Authorizations unused for their machine type's months, or expiring, within {days} days. Renewing starts the months again.",lapse_after_months:"Lapses after months unused",notifications:"Notifications",no_phones:"none registered",admin_notify_services:"Admin notification services (comma separated)",lapse_notice_days:"Lapse notice (days ahead)",interest_expiry_hours:`"Tell me when it's free" waits at most (hours)`,all_kinds:"All events",all_roles:"All roles",all_statuses:"Any status",all_targets:"All machines",confirm_block:"Block {name}? Nobody can start a session on it until it is unblocked.",confirm_delete_type:"Delete the machine type {name}?",confirm_maintenance:"Record maintenance done on {name}? Its maintenance counter starts again.",confirm_revoke:"Revoke {target} from {name}?",confirm_role_admin:"Make {name} a lab admin? Admins manage members, authorizations, devices and settings.",confirm_same_name:"There is already a member named {name}. Add another one?",error_conditions_json:"The maintenance conditions are not a valid JSON list.",field_required:"This field is required.",grant_count:"Grant ({count})",machines:"Machines (machine types or devices)",make_admin:"Make admin",new:"New",next:"Next",previous:"Previous",no_match:"Nothing matches.",no_sessions:"No sessions for these filters.",page_of:"Page {page} of {pages}",pick_member:"Pick a member.",pick_members:"Pick at least one member.",pick_targets:"Pick at least one machine type or device.",remove_pick:"Remove {name}",rows_of:"{first}–{last} of {total}",rows_per_page:"Rows per page",search:"Search",type_to_search:"Type to search",saved_member:"{name} saved.",deleted_member:"{name} deleted.",added_member:"{name} added.",granted:"{count} authorizations granted.",revoked:"Authorization revoked.",blocked_device:"{name} blocked.",unblocked_device:"{name} unblocked.",maintenance_recorded:"Maintenance recorded on {name}.",saved_type:"Machine type {name} saved.",assigned_card:"Card assigned to {name}.",renewed:"Authorization renewed.",error_unauthorized:"Your role does not allow this: ask a lab admin.",error_invalid:"Some values are not valid: check the form.",error_not_found:"It is no longer there: it may have been deleted meanwhile.",error_unavailable:"FluxiLab does not answer this: update the integration and reload the page.",error_failed:"That did not work. Try again, or ask a lab admin.",error_timeout:"Home Assistant took too long to answer. Try again.",error_wrong_pin:"The current PIN is wrong.",error_pin_unchanged:"The new PIN must differ from the current one.",error_card_in_use:"This card already belongs to another member.",error_user_linked:"This Home Assistant user is already linked to another member.",error_cannot_delete_self:"You cannot delete your own member.",error_member_name_taken:"A member with this name exists already: confirm to add another.",error_not_permitted:"Your role does not allow this: ask a lab admin.",error_invalid_period:"The period must start before it ends.",error_device_not_paired:"The device is not paired yet.",error_no_device_ui:"The device has no reachable web interface.",error_pin_change_locked:"Too many wrong current PINs: wait a little and try again.",kind_decision:"Access decision",kind_routing:"Opened the device UI",kind_maintenance:"Maintenance",kind_training:"Training",kind_admin:"Admin change",audit_by:"By",audit_what:"What",audit_change:"Before → after",audit_door:"Through",audit_more:"More",audit_shown:"{count} entries shown",audit_masked:"changed (personal data, not shown)",audit_changed:"changed",audit_anonymized:"Anonymized",audit_ha_admin:"A Home Assistant administrator",audit_system:"FluxiLab itself",door_service:"Action (service)",door_websocket:"Panel",door_entity:"Device entity",door_options_flow:"Device options",door_system:"Automatic",target_member:"Member",target_credential:"Card or PIN",target_authorization:"Authorization",target_machine_type:"Machine type",target_role:"Role",target_settings:"Lab settings",target_device:"Device",target_login:"Home Assistant login",action_created:"Created",action_updated:"Changed",action_deleted:"Deleted",action_maintenance:"Maintenance done",action_skipped:"Not done",field_pin:"PIN",field_name:"Name",field_email:"Email",field_role:"Role",field_active:"Active",field_supervise:"Supervisor",field_user_id:"Home Assistant user",field_notify_service:"Notifications",field_blocked:"Blocked",field_since_maintenance:"Hours since maintenance",field_expires:"Expires",field_granted_by:"Granted by",field_last_used:"Last used",field_card:"Card",field_label:"Label",field_type:"Type",field_must_change:"Initial PIN",field_usage_retention_days:"Usage kept (days)",field_unknown_card_retention_days:"Unknown cards kept (days)",field_session_check_interval:"Session check interval (s)",field_session_timeout:"Session timeout (s)",field_grace_period:"Grace period (s)",field_show_member_names:"Members' names on entities",field_machine_type:"Machine type",field_maintenance_interval:"Maintenance every (hours)",field_history_database:"History database",reason_granted:"Granted",reason_unknown_card:"Unknown card",reason_credential_inactive:"Card or PIN deactivated",reason_pin_change_required:"Initial PIN not yet replaced",reason_pin_required:"Card + PIN needed: enter the PIN",reason_pin_wrong:"Wrong PIN with the card",reason_pin_locked:"Too many wrong PINs: try again later",reason_card_required:"Card + PIN needed: present the card",reason_unknown_member:"Unknown member",reason_no_credential:"No card or PIN",reason_inactive:"Member not active",reason_not_authorized:"No authorization",reason_expired:"Authorization expired",reason_lapsed:"Authorization lapsed (unused)",reason_outside_hours:"Outside the allowed hours",reason_blocked:"Device blocked",reason_maintenance_due:"Maintenance due",reason_safety_limit:"Safety limit not met",reason_no_supervisor:"No supervisor present",reason_booked_by_other:"Booked by another member",reason_booking_required:"A booking is required",reason_booked_soon:"Granted: booked by another member soon",reason_not_allowed:"Not allowed to record maintenance",reason_session_updated:"Session extended",reason_session_ended:"Session ended",reason_session_unknown:"Unknown session",reason_maintenance_recorded:"Maintenance recorded",reason_offline_denied:"Refused offline (the device's policy)",reason_mirror_stale:"Refused offline (the device's copy is too old)",reason_authorization_granted:"Authorization granted by a trainer",reason_other:"Other reason",notify_phone:"Notify me on",notify_all_phones:"All my phones with the Home Assistant app ({phones})",last_hour:"{name}, last hour",open_blocked:"The browser blocked the new window.",open_link:"Open {name}",usage_per_week:"Usage hours per machine per week",usage_week_hours:"Week of {week}: {hours} h",book:"Book",card_no_device:"No FluxiLab device {device} you may see.",card_pick_device:"Choose a device",card_show_telemetry:"Show the telemetry",bookings:"Bookings",booked:"Booked.",booking_end_confirm:"End your booking that began {when} now?",booking_cancel_confirm:"Cancel the booking of {when}?",booking_end:"End now",booking_cancel:"Cancel booking",booking_no_show:"Released (nobody came)",booked_slot:"Booked",week_previous:"Previous week",week_next:"Next week",booking_mode_off:"This device takes no bookings.",booking_mode_required:"A booking is required to use this device: {min} to {max} minutes, up to {days} days ahead.",booking_mode_optional:"Bookings of {min} to {max} minutes, up to {days} days ahead; while nobody holds it, anyone authorized may use it.",day:"Day",my_bookings:"My bookings",no_bookings:"You have no bookings ahead.",booking_no_shows:"Bookings of yours released because nobody came (last 90 days): {count}",reason_outage:"Out of service (an outage runs)",reason_unsafe:"Reported unsafe, not cleared yet",outage:"Outage",outage_end:"End outage",outage_end_confirm:"End the outage of {when} now? Members are granted the device again.",outage_schedule:"Schedule an outage",outage_note:"Note (shown on the device)",outage_scheduled:"Outage scheduled; bookings it met are cancelled and their members told.",problem_report:"Report a problem",problem_description:"What is wrong?",problem_unsafe:"The machine is unsafe: block it until staff clear it",problem_unsafe_confirm:"Block {device} for everyone until staff clear it?",problem_reported:"Problem reported. Thank you.",problem_reports:"Open problem reports",problem_none:"No open problem reports.",problem_resolve:"Resolve",problem_resolution:"What was done",problem_resolved_ok:"Report resolved.",problem_unsafe_banner:"Reported unsafe: nobody is granted this device until staff clear it.",problem_by:"{who}, {when}",reason_problem_reported:"Problem reported from the device",target_outage:"Outage",target_problem:"Problem report",door_device:"Device UI",door_repair_flow:"Repairs (Home Assistant)",field_start:"Start",field_end:"End",field_note:"Note",field_cancelled_bookings:"Bookings cancelled",field_unsafe:"Unsafe",field_description:"Description",field_resolved:"Resolved",field_resolution:"What was done",billing:"Billing",project:"Project",projects:"Projects",month:"Month",amount:"Amount",minimum:"minimum",billable:"Billable",total:"Total",statement_sessions:"Sessions",billed_minutes:"Billed (min)",busy_idle_minutes:"Busy / idle (min)",charge_to:"Charge to",non_billable:"Non-billable",non_billable_training:"Training",non_billable_maintenance:"Maintenance",non_billable_staff:"Staff",no_project:"No project",statement_title:"Statement: {project}, {month}",show_statement:"Show statement",project_code:"Code",project_members:"Members",project_defaults:"Default for",new_project:"Add project",default_project:"Default project",set_default_project:"Set default project",confirm_delete_project:"Delete the project {name}? Its sessions stay in the usage history; their statements then show them under no project.",billing_hourly:"Rate per hour (busy)",billing_idle_hourly:"Rate per hour idle (empty: the same)",billing_minimum:"Minimum charge",billing_round_minutes:"Round up to started minutes",error_amount:"Give amounts as 12.50.",target_project:"Project",target_session_charge:"Session charge",field_project_id:"Project",field_non_billable:"Non-billable",field_members:"Members",field_default_members:"Default for",field_code:"Code",field_billing_hourly_cents:"Rate per hour (cents)",field_billing_idle_hourly_cents:"Rate per hour idle (cents)",field_billing_minimum_cents:"Minimum charge (cents)",field_billing_round_minutes:"Rounding (minutes)"};var Lt={title:"FluxiLab",presence:"Nel laboratorio",people_in_lab:"Persone nel laboratorio: {count}",nobody_in_lab:"Non c'è nessuno nel laboratorio.",since:"Da",where:"Dove",entrance:"entrato",print_list:"Stampa",check_in:"Registra ingresso",check_out:"Registra uscita",checkin_expiry_hours:"Gli ingressi scadono dopo (ore)",make_supervisor:"Rendi supervisore",remove_supervisor:"Non supervisore",trainer:"Formatore",trained_by:"formato da {name}",requires_supervisor:"Richiede un supervisore presente",supervisor_minutes:"Il supervisore vale per (minuti)",supervised_hours_start:"Uso senza supervisore dalle",supervised_hours_end:"Uso senza supervisore fino alle",training_expiry_days:"Le abilitazioni da formazione durano (giorni)",lab:"Laboratorio",profile:"Il mio profilo",admin:"Amministrazione",no_area:"Altre attrezzature",no_devices:"Non ci sono ancora attrezzature che puoi usare. Chiedi un'abilitazione a un amministratore del laboratorio.",not_linked:"Il tuo utente di Home Assistant non è collegato a un membro del laboratorio.",online:"In linea",offline:"Non in linea",in_use:"In uso",in_use_by:"In uso da {name}",free:"Libero",maintenance_due:"Manutenzione da fare",blocked:"Bloccato",not_paired:"Non abbinato",link_broken:"Collegamento interrotto",link_broken_hint:"L'hub rifiuta i messaggi di questo dispositivo: le sue chiavi non sono quelle dell'hub. Un amministratore di Home Assistant trova la soluzione in Impostazioni → Riparazioni.",open:"Apri",opening:"Apertura…",open_refused:"L'indirizzo dell'interfaccia del dispositivo non è un indirizzo web: chiedi a un amministratore di verificarlo.",no_ui:"Nessuna interfaccia",gateway_certificate:"Impronta del certificato (SHA-256)",gateway_certificate_hint:"Se il browser avverte sul certificato di questo dispositivo, prosegui solo se mostra questa impronta.",hours_left:"{hours} h alla manutenzione",loading:"Caricamento…",member:"Membro",role:"Ruolo",role_admin:"Amministratore",role_staff:"Tecnico",role_user:"Utente",roles:"Ruoli",roles_hint:"Un ruolo è ciò che i suoi membri possono fare. Admin, staff e utente sono predefiniti e mantengono i loro permessi; qui aggiungi i ruoli del laboratorio. Gestire il laboratorio rende un ruolo amministratore; manutenzione o supervisione lo rendono staff; altrimenti i suoi membri sono membri del laboratorio. Un ruolo assegnato a qualche membro non può essere eliminato.",role_built_in:"predefinito",role_flag_authorize_all:"Usa ogni macchina",role_flag_maintenance:"Registra la manutenzione",role_flag_supervisor:"Supervisiona",role_flag_manage:"Gestisce il laboratorio",role_flag_book_for_others:"Prenota per altri",new_role:"Aggiungi ruolo",role_saved:"Ruolo {name} salvato.",confirm_delete_role:"Eliminare il ruolo {name}?",active:"Attivo",inactive:"Non attivo",cards:"Tessere",none:"Nessuna",authorizations:"Abilitazioni",expires:"Scadenza",never:"Mai",expired:"Scaduta",hours:"Orari",sessions:"Sessioni recenti",device:"Dispositivo",start:"Inizio",end:"Fine",duration:"Durata",open_session:"aperta",recorded_offline:"Registrato offline sul dispositivo, inviato in seguito",recorded_offline_only:"Solo registrati offline",change_pin:"Cambia PIN / password dei dispositivi",pin_hint:"Almeno 6 caratteri. Si usa sul tastierino e nella pagina di accesso dei dispositivi.",current_pin:"PIN attuale",new_pin:"Nuovo PIN",repeat_pin:"Ripeti il nuovo PIN",save:"Salva",pin_mismatch:"I due nuovi PIN non coincidono.",pin_short:"Un PIN deve avere almeno 6 caratteri.",pin_changed:"Il PIN è stato cambiato.",pin_must_change:"Il tuo PIN è quello iniziale dato da un amministratore: non funziona sui dispositivi finché non lo sostituisci qui con uno tuo.",current_initial_pin:"PIN attuale (iniziale)",no_pin_yet:"Non hai ancora un PIN: chiedine uno a un amministratore (Ripristina PIN), poi sostituiscilo qui.",members:"Membri",devices:"Dispositivi",unknown_cards:"Tessere sconosciute",history:"Storico utilizzi",audit:"Registro eventi",name:"Nome",email:"E-mail",linked_user:"Utente Home Assistant",no_user:"Non collegato",create_login:"Crea un accesso Home Assistant",login_username:"Nome utente",login_password:"Password",deactivate_login:"Disattiva il suo accesso Home Assistant con il membro",deactivate_login_short:"L'accesso segue il membro",login_hint:"Il membro entra in Home Assistant con questo accesso e apre i suoi dispositivi da questo pannello: nessuna seconda password.",card:"Tessera",card_added:"aggiunta il {date}",initial_pin:"PIN iniziale",create_member:"Aggiungi membro",create:"Aggiungi",delete:"Elimina",confirm_delete:"Eliminare {name}? Il suo storico viene anonimizzato.",activate:"Attiva",deactivate:"Disattiva",grant:"Abilita",grant_to:"Abilita i membri",machine_type:"Tipo di macchina",revoke:"Revoca",block:"Blocca",unblock:"Sblocca",record_maintenance:"Manutenzione fatta",usage_hours:"Ore di utilizzo",seen_at:"Vista su",seen:"Vista",assign_to:"Assegna a",assign:"Assegna",filter:"Filtra",all:"Tutti",from:"Dal",to:"Al",download_csv:"Scarica CSV",import_title:"Importa ed esporta",import_help:"Membri, tessere e autorizzazioni in CSV: member_id, name, email, role, active, cards (separate da ;), authorizations (tipi di macchina o device:<id>, ciascuno con una scadenza facoltativa @AAAA-MM-GG, separati da ;). Il file viene prima controllato e nulla è scritto finché non lo importi.",import_file:"File CSV da importare",import_strict:"Non importare nulla se una riga è rifiutata",import_dry_run:"Cosa farebbe l'importazione di {file}",import_applied:"{file} importato",import_summary:"{create} nuovi, {update} modificati, {unchanged} invariati, {reject} rifiutati.",import_line:"Riga",import_action:"Azione",import_details:"Modifiche o motivo",import_action_create:"Nuovo",import_action_update:"Modificato",import_action_unchanged:"Invariato",import_action_reject:"Rifiutato",import_apply:"Importa",import_done:"Importati: {create} nuovi, {update} modificati.",import_too_large:"Il file è troppo grande da importare (al massimo {max} byte).",new_member_name:"Nome del nuovo membro",create_member_from_card:"Nuovo membro",time:"Ora",kind:"Evento",reason:"Motivo",done:"Fatto.",refresh:"Aggiorna",has_pin:"PIN impostato",no_pin:"Nessun PIN",target:"Per",status:"Stato",menu:"Menu",machine_types:"Tipi di macchina",settings:"Impostazioni",new_type:"Nuovo tipo di macchina",edit:"Modifica",session_timeout:"Scadenza sessione (s)",grace_period:"Tolleranza (s)",requires_authorization:"Richiede un'abilitazione",maintenance_interval:"Manutenzione ogni (ore di utilizzo)",maintenance_message:"Messaggio di manutenzione sul dispositivo",maintenance:"Manutenzione",maintenance_plan:"Piano di manutenzione",hours_to_maintenance:"Ore alla manutenzione",maintenance_description:"Cosa fare alla manutenzione (mostrato sul dispositivo quando è dovuta)",maintenance_url:"Istruzioni di manutenzione (indirizzo http o https)",maintenance_instructions:"Istruzioni",maintenance_no_plan:"Nessun piano di manutenzione: impostalo sul tipo di macchina.",maintenance_note:"Nota",maintenance_interventions:"Interventi",maintenance_none_yet:"Nessuna manutenzione registrata finora.",maintenance_since_previous:"Ore dalla precedente",block_when_maintenance_due:"Blocca quando la manutenzione è da fare",require_pin:"Richiede tessera + PIN al dispositivo",offline_policy:"Senza l'hub (offline)",offline_default:"Predefinito: nega se ha limiti di sicurezza",offline_allow_mirrored:"Consenti i membri nella copia del dispositivo (le loro regole sono verificate lì)",offline_deny:"Nega a tutti",offline_max_age:"Offline al massimo per (ore senza l'hub)",busy_channel:"Occupata finché il canale",busy_above:"è sopra",busy_delay:"Libera dopo (s) sotto soglia",maintenance_conditions:"Condizioni di manutenzione (lista JSON)",busy:"In funzione (telemetria)",condition_progress:"{text}: {value} su {target}",condition_channel_hours:"{channel} attivo: {value} su {target} h",condition_below_baseline:"{channel} sotto il riferimento: {value} su {target} giorni",safety_channel:"Interblocco di sicurezza: canale",safety_min:"minimo",safety_max:"massimo",safety:"Interblocco di sicurezza",retention:"Conservazione",usage_retention_days:"Conserva lo storico utilizzi (giorni)",unknown_card_retention_days:"Conserva le tessere sconosciute (giorni)",show_member_names:"Mostra i nomi dei membri nelle entità, nel registro e negli eventi (li vede ogni utente di Home Assistant; il registratore li conserva)",apply_retention:"Salva ed elimina",purged:"{count} voci anonimizzate, {cards} tessere sconosciute eliminate.",gdpr_export:"Esporta i dati di un membro (GDPR)",export:"Esporta",cancel:"Annulla",credentials:"Tessere e PIN",credentials_of:"Tessere e PIN di {name}",credential_label:"Etichetta",credential_type:"Tipo",type_card:"Tessera",type_pin:"PIN",last_used:"Ultimo uso",never_used:"Nessun uso",report_lost:"Segnala smarrimento",confirm_lost:"Disattivare {label}? I dispositivi la rifiutano subito; le altre tessere e il PIN continuano a funzionare. Un amministratore può riattivarla.",add_credential:"Aggiungi tessera",reset_pin:"Ripristina PIN",confirm_reset_pin:"Dare a {name} un nuovo PIN iniziale? Il PIN attuale smette subito di funzionare; quello nuovo è mostrato solo ora e non funziona su nessun dispositivo finché non viene sostituito.",pin_issued:"PIN iniziale di {name}: {pin} (mostrato solo ora). Consegnalo: va sostituito nel profilo prima di usarlo su un dispositivo.",must_change:"da cambiare",close:"Chiudi",notify_when_free:"Avvisami quando è libero",waiting_position:"Sarai avvisato (n. {position})",stop_waiting:"Non aspettare più",lapsing:"Decadenze",lapse_date:"Decade",lapsed:"Decaduta",lapse_cause_inactivity:"non usata",lapse_cause_expires:"scade",lapse_never:"Mai",renew:"Rinnova",lapsing_none:"Nessuna abilitazione decade entro {days} giorni.",lapsing_hint:"Abilitazioni non usate per i mesi del loro tipo di macchina, o in scadenza, entro {days} giorni. Rinnovare fa ripartire i mesi.",lapse_after_months:"Decade dopo mesi senza uso",notifications:"Notifiche",no_phones:"nessuno registrato",admin_notify_services:"Servizi di notifica degli amministratori (separati da virgole)",lapse_notice_days:"Preavviso di decadenza (giorni)",interest_expiry_hours:'"Avvisami quando è libero" attende al massimo (ore)',all_kinds:"Tutti gli eventi",all_roles:"Tutti i ruoli",all_statuses:"Qualsiasi stato",all_targets:"Tutte le macchine",confirm_block:"Bloccare {name}? Nessuno può avviare una sessione finché non viene sbloccato.",confirm_delete_type:"Eliminare il tipo di macchina {name}?",confirm_maintenance:"Registrare la manutenzione fatta su {name}? Il contatore della manutenzione riparte.",confirm_revoke:"Revocare {target} a {name}?",confirm_role_admin:"Rendere {name} amministratore del laboratorio? Gli amministratori gestiscono membri, abilitazioni, dispositivi e impostazioni.",confirm_same_name:"Esiste già un membro di nome {name}. Aggiungerne un altro?",error_conditions_json:"Le condizioni di manutenzione non sono una lista JSON valida.",field_required:"Questo campo è obbligatorio.",grant_count:"Abilita ({count})",machines:"Macchine (tipi di macchina o dispositivi)",make_admin:"Rendi amministratore",new:"Nuova",next:"Successiva",previous:"Precedente",no_match:"Nessun risultato.",no_sessions:"Nessuna sessione per questi filtri.",page_of:"Pagina {page} di {pages}",pick_member:"Scegli un membro.",pick_members:"Scegli almeno un membro.",pick_targets:"Scegli almeno un tipo di macchina o un dispositivo.",remove_pick:"Togli {name}",rows_of:"{first}–{last} di {total}",rows_per_page:"Righe per pagina",search:"Cerca",type_to_search:"Scrivi per cercare",saved_member:"{name} salvato.",deleted_member:"{name} eliminato.",added_member:"{name} aggiunto.",granted:"{count} abilitazioni concesse.",revoked:"Abilitazione revocata.",blocked_device:"{name} bloccato.",unblocked_device:"{name} sbloccato.",maintenance_recorded:"Manutenzione registrata su {name}.",saved_type:"Tipo di macchina {name} salvato.",assigned_card:"Tessera assegnata a {name}.",renewed:"Abilitazione rinnovata.",error_unauthorized:"Il tuo ruolo non lo consente: chiedi a un amministratore del laboratorio.",error_invalid:"Alcuni valori non sono validi: controlla il modulo.",error_not_found:"Non c'è più: forse è stato eliminato nel frattempo.",error_unavailable:"FluxiLab non risponde a questa richiesta: aggiorna l'integrazione e ricarica la pagina.",error_failed:"Non ha funzionato. Riprova o chiedi a un amministratore del laboratorio.",error_timeout:"Home Assistant ha impiegato troppo a rispondere. Riprova.",error_wrong_pin:"Il PIN attuale è sbagliato.",error_pin_unchanged:"Il nuovo PIN deve essere diverso da quello attuale.",error_card_in_use:"Questa tessera appartiene già a un altro membro.",error_user_linked:"Questo utente di Home Assistant è già collegato a un altro membro.",error_cannot_delete_self:"Non puoi eliminare il tuo membro.",error_member_name_taken:"Esiste già un membro con questo nome: conferma per aggiungerne un altro.",error_not_permitted:"Il tuo ruolo non lo consente: chiedi a un amministratore del laboratorio.",error_invalid_period:"Il periodo deve iniziare prima di finire.",error_device_not_paired:"Il dispositivo non è ancora abbinato.",error_no_device_ui:"Il dispositivo non ha un'interfaccia web raggiungibile.",error_pin_change_locked:"Troppi PIN attuali sbagliati: attendi un po' e riprova.",kind_decision:"Decisione di accesso",kind_routing:"Interfaccia del dispositivo aperta",kind_maintenance:"Manutenzione",kind_training:"Formazione",kind_admin:"Modifica amministrativa",audit_by:"Da",audit_what:"Cosa",audit_change:"Prima → dopo",audit_door:"Tramite",audit_more:"Altre",audit_shown:"{count} voci mostrate",audit_masked:"modificato (dato personale, non mostrato)",audit_changed:"modificato",audit_anonymized:"Anonimizzato",audit_ha_admin:"Un amministratore di Home Assistant",audit_system:"FluxiLab stesso",door_service:"Azione (servizio)",door_websocket:"Pannello",door_entity:"Entità del dispositivo",door_options_flow:"Opzioni del dispositivo",door_system:"Automatico",target_member:"Membro",target_credential:"Tessera o PIN",target_authorization:"Abilitazione",target_machine_type:"Tipo di macchina",target_role:"Ruolo",target_settings:"Impostazioni del laboratorio",target_device:"Dispositivo",target_login:"Accesso Home Assistant",action_created:"Creato",action_updated:"Modificato",action_deleted:"Eliminato",action_maintenance:"Manutenzione eseguita",action_skipped:"Non eseguito",field_pin:"PIN",field_name:"Nome",field_email:"Email",field_role:"Ruolo",field_active:"Attivo",field_supervise:"Supervisore",field_user_id:"Utente di Home Assistant",field_notify_service:"Notifiche",field_blocked:"Bloccato",field_since_maintenance:"Ore dall'ultima manutenzione",field_expires:"Scadenza",field_granted_by:"Concessa da",field_last_used:"Ultimo uso",field_card:"Tessera",field_label:"Etichetta",field_type:"Tipo",field_must_change:"PIN iniziale",field_usage_retention_days:"Utilizzo conservato (giorni)",field_unknown_card_retention_days:"Tessere sconosciute conservate (giorni)",field_session_check_interval:"Intervallo di controllo sessioni (s)",field_session_timeout:"Timeout della sessione (s)",field_grace_period:"Periodo di tolleranza (s)",field_show_member_names:"Nomi dei membri sulle entità",field_machine_type:"Tipo di macchina",field_maintenance_interval:"Manutenzione ogni (ore)",field_history_database:"Database dello storico",reason_granted:"Consentito",reason_unknown_card:"Tessera sconosciuta",reason_credential_inactive:"Tessera o PIN disattivati",reason_pin_change_required:"PIN iniziale non ancora sostituito",reason_pin_required:"Servono tessera + PIN: inserisci il PIN",reason_pin_wrong:"PIN errato con la tessera",reason_pin_locked:"Troppi PIN errati: riprova più tardi",reason_card_required:"Servono tessera + PIN: presenta la tessera",reason_unknown_member:"Membro sconosciuto",reason_no_credential:"Nessuna tessera o PIN",reason_inactive:"Membro non attivo",reason_not_authorized:"Nessuna abilitazione",reason_expired:"Abilitazione scaduta",reason_lapsed:"Abilitazione decaduta (non usata)",reason_outside_hours:"Fuori dagli orari consentiti",reason_blocked:"Dispositivo bloccato",reason_maintenance_due:"Manutenzione da fare",reason_safety_limit:"Limite di sicurezza non rispettato",reason_no_supervisor:"Nessun supervisore presente",reason_booked_by_other:"Prenotato da un altro membro",reason_booking_required:"Serve una prenotazione",reason_booked_soon:"Concesso: a breve prenotato da un altro membro",reason_not_allowed:"Non autorizzato a registrare la manutenzione",reason_session_updated:"Sessione prolungata",reason_session_ended:"Sessione terminata",reason_session_unknown:"Sessione sconosciuta",reason_maintenance_recorded:"Manutenzione registrata",reason_offline_denied:"Rifiutato senza rete (regola del dispositivo)",reason_mirror_stale:"Rifiutato senza rete (la copia del dispositivo è troppo vecchia)",reason_authorization_granted:"Abilitazione concessa da un formatore",reason_other:"Altro motivo",notify_phone:"Avvisami su",notify_all_phones:"Tutti i miei telefoni con l'app di Home Assistant ({phones})",last_hour:"{name}, ultima ora",open_blocked:"Il browser ha bloccato la nuova finestra.",open_link:"Apri {name}",usage_per_week:"Ore di utilizzo per macchina e settimana",usage_week_hours:"Settimana del {week}: {hours} h",book:"Prenota",card_no_device:"Nessun dispositivo FluxiLab {device} visibile per te.",card_pick_device:"Scegli un dispositivo",card_show_telemetry:"Mostra la telemetria",bookings:"Prenotazioni",booked:"Prenotato.",booking_end_confirm:"Terminare ora la tua prenotazione iniziata {when}?",booking_cancel_confirm:"Annullare la prenotazione del {when}?",booking_end:"Termina ora",booking_cancel:"Annulla prenotazione",booking_no_show:"Liberata (nessuno si è presentato)",booked_slot:"Prenotato",week_previous:"Settimana precedente",week_next:"Settimana successiva",booking_mode_off:"Questo dispositivo non accetta prenotazioni.",booking_mode_required:"Per usare questo dispositivo serve una prenotazione: da {min} a {max} minuti, fino a {days} giorni prima.",booking_mode_optional:"Prenotazioni da {min} a {max} minuti, fino a {days} giorni prima; quando nessuno lo tiene, chiunque sia autorizzato può usarlo.",day:"Giorno",my_bookings:"Le mie prenotazioni",no_bookings:"Non hai prenotazioni in programma.",booking_no_shows:"Tue prenotazioni liberate perché nessuno si è presentato (ultimi 90 giorni): {count}",reason_outage:"Fuori servizio (è in corso un fermo)",reason_unsafe:"Segnalato come non sicuro, non ancora sbloccato",outage:"Fuori servizio",outage_end:"Termina fuori servizio",outage_end_confirm:"Terminare ora il fuori servizio del {when}? I membri potranno di nuovo usare il dispositivo.",outage_schedule:"Programma un fuori servizio",outage_note:"Nota (mostrata sul dispositivo)",outage_scheduled:"Fuori servizio programmato; le prenotazioni coinvolte sono annullate e i membri avvisati.",problem_report:"Segnala un problema",problem_description:"Che cosa non va?",problem_unsafe:"La macchina non è sicura: bloccala finché lo staff non la sblocca",problem_unsafe_confirm:"Bloccare {device} per tutti finché lo staff non lo sblocca?",problem_reported:"Problema segnalato. Grazie.",problem_reports:"Segnalazioni aperte",problem_none:"Nessuna segnalazione aperta.",problem_resolve:"Risolvi",problem_resolution:"Cosa è stato fatto",problem_resolved_ok:"Segnalazione risolta.",problem_unsafe_banner:"Segnalato come non sicuro: nessuno può usare questo dispositivo finché lo staff non lo sblocca.",problem_by:"{who}, {when}",reason_problem_reported:"Problema segnalato dal dispositivo",target_outage:"Fuori servizio",target_problem:"Segnalazione",door_device:"Interfaccia del dispositivo",door_repair_flow:"Riparazioni (Home Assistant)",field_start:"Inizio",field_end:"Fine",field_note:"Nota",field_cancelled_bookings:"Prenotazioni annullate",field_unsafe:"Non sicuro",field_description:"Descrizione",field_resolved:"Risolto",field_resolution:"Cosa è stato fatto",billing:"Fatturazione",project:"Progetto",projects:"Progetti",month:"Mese",amount:"Importo",minimum:"minimo",billable:"Fatturabile",total:"Totale",statement_sessions:"Sessioni",billed_minutes:"Fatturati (min)",busy_idle_minutes:"In funzione / inattiva (min)",charge_to:"Addebita a",non_billable:"Non fatturabile",non_billable_training:"Formazione",non_billable_maintenance:"Manutenzione",non_billable_staff:"Personale",no_project:"Nessun progetto",statement_title:"Estratto conto: {project}, {month}",show_statement:"Mostra estratto conto",project_code:"Codice",project_members:"Membri",project_defaults:"Predefinito per",new_project:"Aggiungi progetto",default_project:"Progetto predefinito",set_default_project:"Imposta progetto predefinito",confirm_delete_project:"Eliminare il progetto {name}? Le sue sessioni restano nella cronologia d'uso; gli estratti conto le mostreranno senza progetto.",billing_hourly:"Tariffa oraria (in funzione)",billing_idle_hourly:"Tariffa oraria inattiva (vuoto: la stessa)",billing_minimum:"Addebito minimo",billing_round_minutes:"Arrotonda ai minuti iniziati",error_amount:"Scrivi gli importi come 12,50.",target_project:"Progetto",target_session_charge:"Addebito sessione",field_project_id:"Progetto",field_non_billable:"Non fatturabile",field_members:"Membri",field_default_members:"Predefinito per",field_code:"Codice",field_billing_hourly_cents:"Tariffa oraria (centesimi)",field_billing_idle_hourly_cents:"Tariffa oraria inattiva (centesimi)",field_billing_minimum_cents:"Addebito minimo (centesimi)",field_billing_round_minutes:"Arrotondamento (minuti)"};var Di={en:fe,it:Lt},se=class extends Error{constructor(e,i){super(e);this.key=e;this.field=i}},ji={unauthorized:"error_unauthorized",invalid_format:"error_invalid",not_found:"error_not_found",unknown_command:"error_unavailable",not_allowed:"error_unauthorized",timeout:"error_timeout"};function qi(a){if(a)try{return new Intl.DateTimeFormat("en",{timeZone:a}),a}catch{return}}var Oi=/^\d{4}-\d{2}-\d{2}$/,N=class{constructor(t,e=null){this.exceptions=e;this.language=t.locale?.language||t.language||"en",this.table=Di[this.language.split("-")[0]]??fe,this.labZone=qi(t.config?.time_zone),this.zone=t.locale?.time_zone==="server"?this.labZone:void 0}t(t,e={}){let i=this.table[t]??fe[t]??t;for(let[n,r]of Object.entries(e))i=i.split(`{${n}}`).join(String(r));return i}maybe(t){return t in fe?this.t(t):null}when(t){if(t==null||t==="")return"";let e=typeof t=="number"?new Date(t*1e3):new Date(t);return Number.isNaN(e.getTime())?String(t):e.toLocaleString(this.language,{dateStyle:"short",timeStyle:"short",timeZone:this.zone})}day(t){if(t instanceof Date)return t.toLocaleDateString(this.language,{dateStyle:"medium"});if(!t)return"";let e=Oi.test(t),i=new Date(e?`${t}T12:00:00Z`:t);return Number.isNaN(i.getTime())?t:i.toLocaleDateString(this.language,{dateStyle:"medium",timeZone:e?"UTC":this.labZone})}number(t){return typeof t=="boolean"?t?"✔":"✘":typeof t=="string"?t:typeof t!="number"?"—":t.toLocaleString(this.language,{maximumFractionDigits:2})}amount(t){return t!==0&&Math.abs(t)<.01?t.toLocaleString(this.language,{maximumSignificantDigits:2}):this.number(t)}condition(t,e){let i={channel:e,value:this.amount(t.value),target:this.amount(t.target)};return t.kind==="channel_hours"?this.t("condition_channel_hours",i):t.kind==="below_baseline"?this.t("condition_below_baseline",i):this.t("condition_progress",{text:e,value:i.value,target:i.target})}duration(t){if(typeof t!="number")return"";let e=Math.round(t/60);return e<60?`${e} min`:`${Math.floor(e/60)} h ${e%60} min`}reason(t){return t?this.maybe(`reason_${t}`)??this.t("reason_other"):""}kind(t){let e=t.replace(/_/g," ");return this.maybe(`kind_${t}`)??e.charAt(0).toLocaleUpperCase(this.language)+e.slice(1)}static errorField(t){if(t instanceof se)return t.field;let e=t?.message,i=typeof e=="string"?/at '([a-z_]+)'/.exec(e):null;return i?i[1]:void 0}error(t){if(t instanceof se)return this.t(t.key);let e=t??{};if(e.translation_key&&e.translation_domain==="fluxilab"){let i=this.maybe(`error_${e.translation_key}`),n=`component.fluxilab.exceptions.${e.translation_key}.message`,r=this.exceptions?.(n,e.translation_placeholders??{});if(r&&r!==n)return r;if(i)return i}return this.t(ji[e.code??""]??"error_failed")}};async function Mt(a){if(!a.loadBackendTranslation)return null;try{return await a.loadBackendTranslation("exceptions","fluxilab")}catch{return null}}var It=ce`
  :host {
    display: block;
    min-height: 100%;
    background: var(--primary-background-color);
    color: var(--primary-text-color);
    font-family: var(--ha-font-family-body, Roboto, sans-serif);
  }
  header {
    display: flex;
    align-items: center;
    gap: 8px;
    height: var(--header-height, 56px);
    padding: 0 12px;
    padding-top: env(safe-area-inset-top);
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
    position: sticky;
    top: 0;
    z-index: 2;
  }
  header h1 { font-size: 20px; font-weight: 400; margin: 0; flex: 1; }
  .menu { background: none; border: none; color: inherit; width: 48px; height: 48px; padding: 12px; cursor: pointer; }
  .menu svg { width: 24px; height: 24px; fill: currentColor; }
  nav.tabs {
    display: flex;
    overflow-x: auto;
    gap: 4px;
    padding: 0 8px;
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
    scrollbar-width: thin;
  }
  nav.sub { background: none; color: var(--primary-text-color); border-bottom: 1px solid var(--divider-color); margin-bottom: 12px; }
  nav button {
    background: none; border: none; color: inherit; opacity: 0.75; font: inherit;
    padding: 12px 14px; min-height: 48px; cursor: pointer; white-space: nowrap;
    border-bottom: 2px solid transparent;
  }
  nav button[aria-selected="true"] { opacity: 1; border-bottom-color: currentColor; }
  nav.sub button[aria-selected="true"] { color: var(--primary-color); }
  main { padding: 16px; max-width: 1200px; margin: 0 auto; box-sizing: border-box; }
  h2 { font-size: 18px; font-weight: 500; margin: 20px 0 8px; color: var(--secondary-text-color); }
  .grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
  .card {
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: 1px solid var(--ha-card-border-color, var(--divider-color, #e0e0e0));
    box-shadow: var(--ha-card-box-shadow, none);
    padding: 16px;
    box-sizing: border-box;
  }
  .card h3, .editor-row h3 { margin: 0 0 4px; font-size: 16px; font-weight: 500; }
  .sub-title { color: var(--secondary-text-color); font-size: 13px; margin-bottom: 8px; }
  .chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
  .chip { font-size: 12px; padding: 3px 10px; border-radius: 12px; background: var(--secondary-background-color, rgba(127, 127, 127, 0.15)); display: inline-flex; align-items: center; gap: 4px; }
  .chip.ok { background: var(--success-color, #43a047); color: #fff; }
  .chip.bad { background: var(--error-color, #db4437); color: #fff; }
  .chip.warn { background: var(--warning-color, #ffa600); color: #000; }
  .chip.info { background: var(--info-color, #039be5); color: #fff; }
  .chip-remove { background: none; border: none; font: inherit; font-size: 16px; line-height: 1; cursor: pointer; color: inherit; padding: 0 2px; min-height: 24px; min-width: 24px; }
  .telemetry { display: grid; grid-template-columns: auto 1fr auto; gap: 2px 12px; align-items: center; font-size: 14px; margin: 8px 0 12px; }
  .telemetry fluxilab-sparkline { justify-self: end; max-width: 120px; height: 24px; }
  .telemetry .v { font-variant-numeric: tabular-nums; text-align: right; }
  .telemetry .v.outside { color: var(--error-color, #db4437); font-weight: 500; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .certificate { margin-top: 8px; font-size: 13px; }
  .certificate code { display: block; word-break: break-all; font-size: 12px; }
  button.primary, button.secondary, button.danger {
    font: inherit; font-weight: 500; border-radius: 8px; min-height: 40px; padding: 0 16px; cursor: pointer;
    border: 1px solid var(--primary-color); background: var(--primary-color); color: var(--text-primary-color, #fff);
  }
  button.secondary { background: transparent; color: var(--primary-color); }
  button.danger { background: transparent; color: var(--error-color, #db4437); border-color: var(--error-color, #db4437); }
  button.danger.filled { background: var(--error-color, #db4437); color: #fff; }
  button:disabled { opacity: 0.5; cursor: default; }
  .message { padding: 12px; border-radius: 8px; margin-bottom: 12px; background: var(--secondary-background-color); }
  .message.error { background: var(--error-color, #db4437); color: #fff; }
  .message.success { background: var(--success-color, #43a047); color: #fff; }
  .muted { color: var(--secondary-text-color); }
  .offline-mark { display: inline-flex; vertical-align: middle; margin-inline-start: 4px; color: var(--secondary-text-color); cursor: help; }
  .offline-mark ha-icon { --mdc-icon-size: 16px; }
  .warning { color: var(--error-color, #db4437); font-weight: 500; }
  .booking.outage { color: var(--warning-color, #ff9800); }
  /* One column that shrinks with the screen: a long option never widens the form. */
  form, .form { display: grid; grid-template-columns: minmax(0, 1fr); gap: 10px; max-width: 560px; }
  form.inline, .inline { display: flex; flex-wrap: wrap; align-items: end; gap: 10px; max-width: none; }
  label, .field-label {
    display: grid; grid-template-columns: minmax(0, 1fr); gap: 4px; font-size: 13px;
    color: var(--secondary-text-color); max-width: 100%;
  }
  label.inline-label { display: inline-flex; align-items: center; gap: 6px; }
  input, select, textarea {
    font: inherit; font-size: 16px; min-height: 40px; padding: 6px 10px; box-sizing: border-box;
    border-radius: 6px; border: 1px solid var(--divider-color);
    background: var(--input-fill-color, var(--card-background-color)); color: var(--primary-text-color);
    max-width: 100%;
  }
  input[aria-invalid="true"], .picker.invalid input { border-color: var(--error-color, #db4437); }
  .field-error { color: var(--error-color, #db4437); font-size: 13px; }
  label.check { display: flex; align-items: center; gap: 8px; font-size: 15px; color: var(--primary-text-color); min-height: 40px; }
  input[type="checkbox"] { min-height: auto; width: 20px; height: 20px; }
  .table-wrap { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
  th { color: var(--secondary-text-color); font-weight: 500; }
  th button.sort { background: none; border: none; font: inherit; color: inherit; cursor: pointer; padding: 4px 0; min-height: 32px; }
  th[aria-sort="ascending"], th[aria-sort="descending"] { color: var(--primary-text-color); }
  tr.editor-row > td { background: var(--secondary-background-color, rgba(127, 127, 127, 0.08)); padding: 12px; }
  .table-toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
  .table-toolbar .search { flex: 1 1 220px; }
  .table-toolbar .count { margin-left: auto; }
  .pager { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; justify-content: flex-end; margin: 8px 0; }
  .picker { position: relative; display: grid; gap: 4px; min-width: 220px; }
  .picker ul.options {
    position: absolute; top: 100%; left: 0; right: 0; z-index: 5; margin: 2px 0 0; padding: 4px 0; list-style: none;
    background: var(--card-background-color, #fff); border: 1px solid var(--divider-color); border-radius: 6px;
    box-shadow: 0 4px 12px rgba(0, 0, 0, 0.2); max-height: 320px; overflow-y: auto;
  }
  .picker li { padding: 10px 12px; cursor: pointer; min-height: 24px; }
  .picker li:hover { background: var(--secondary-background-color, rgba(127, 127, 127, 0.15)); }
  .picker .picked { margin: 0; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
  dt { color: var(--secondary-text-color); }
  dd { margin: 0; }
  .toast {
    position: fixed; left: 50%; bottom: calc(16px + env(safe-area-inset-bottom)); transform: translateX(-50%);
    z-index: 10; display: flex; gap: 12px; align-items: center; max-width: min(560px, calc(100vw - 32px));
    padding: 12px 16px; border-radius: 8px; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.3);
    background: var(--success-color, #43a047); color: #fff; box-sizing: border-box;
  }
  .toast.error { background: var(--error-color, #db4437); }
  .toast button { background: none; border: none; color: inherit; font: inherit; font-weight: 500; cursor: pointer; min-height: 32px; }
  dialog.confirm {
    border: none; border-radius: var(--ha-dialog-border-radius, 24px); padding: 24px; max-width: min(480px, calc(100vw - 32px));
    background: var(--card-background-color, #fff); color: var(--primary-text-color);
    box-shadow: 0 8px 32px rgba(0, 0, 0, 0.4);
  }
  dialog.confirm::backdrop { background: rgba(0, 0, 0, 0.4); }
  dialog.confirm p { margin: 0 0 20px; line-height: 1.5; }
  dialog.confirm .actions { justify-content: flex-end; }
  /* A phone: rows become cards with their labels, nothing scrolls sideways. */
  .printable { position: fixed; inset: 0; z-index: 10; overflow: auto; padding: 16px; background: var(--primary-background-color, #fff); color: var(--primary-text-color, #000); }
  .printable h1 { font-size: 20px; margin: 12px 0 4px; }
  .printable table { border-collapse: collapse; width: 100%; }
  .printable td, .printable th { border: 1px solid currentColor; padding: 6px; text-align: left; }
  @media print {
    .printable, .printable * { visibility: visible !important; }
    .printable { position: absolute; background: #fff; color: #000; padding: 0; }
    .printable .no-print { display: none; }
  }
  .usage-chart td { vertical-align: bottom; text-align: center; font-size: 12px; min-width: 36px; }
  .usage-chart td:first-child { text-align: left; font-size: 14px; }
  .usage-chart .bar { width: 16px; margin: 0 auto 2px; border-radius: 3px 3px 0 0; background: var(--primary-color, #03a9f4); }
  @media (max-width: 700px) {
    main { padding: 12px 8px; }
    table.data-table thead, table.credentials tr:first-child { display: none; }
    table.data-table, table.data-table tbody, table.data-table tr, table.data-table td,
    table.credentials, table.credentials tbody, table.credentials tr, table.credentials td { display: block; width: 100%; box-sizing: border-box; }
    table.data-table tr, table.credentials tr { border: 1px solid var(--divider-color); border-radius: 8px; margin-bottom: 8px; padding: 4px 0; }
    table.data-table td, table.credentials td { border: none; padding: 4px 12px; }
    table.data-table td[data-label]:not([data-label=""])::before, table.credentials td[data-label]::before {
      content: attr(data-label); display: block; font-size: 12px; color: var(--secondary-text-color);
    }
    .table-toolbar .count { margin-left: 0; }
    .picker { min-width: 0; width: 100%; }
    form.inline > *, .inline > * { flex: 1 1 100%; }
  }
`;function tt(a,t){customElements.get(a)||customElements.define(a,t)}var $=a=>t=>{tt(a,t)};var x=class extends A{createRenderRoot(){return this}t(t,e){return this.ctx.i18n.t(t,e)}};m([k({attribute:!1})],x.prototype,"ctx",2);async function f(a,t,e,{quiet:i=!1}={}){a.busyKeys.add(t),a.requestUpdate();try{return await e()}catch(n){if(i||a.ctx.fail(n),i)throw n;return}finally{a.busyKeys.delete(t),a.requestUpdate()}}function R(a,t,e){let i=new Blob([a],{type:e}),n=document.createElement("a");n.href=URL.createObjectURL(i),n.download=t,document.body.appendChild(n),n.click(),n.remove(),setTimeout(()=>URL.revokeObjectURL(n.href),1e4)}function E(a,t){return t?a?.members.find(e=>e.id===t)?.name??t:"—"}function T(a,t){return t?a?.devices.find(e=>e.device_id===t)?.name??t:"—"}function v(a,t){let e=a.get(t);return typeof e=="string"?e:""}var Dt={ATTRIBUTE:1,CHILD:2,PROPERTY:3,BOOLEAN_ATTRIBUTE:4,EVENT:5,ELEMENT:6},Ie=a=>(...t)=>({_$litDirective$:a,values:t}),ae=class{constructor(t){}get _$AU(){return this._$AM._$AU}_$AT(t,e,i){this._$Ct=t,this._$AM=e,this._$Ci=i}_$AS(t,e){return this.update(t,e)}update(t,e){return this.render(...e)}};var{I:Hi}=Rt,jt=a=>a;var qt=()=>document.createComment(""),oe=(a,t,e)=>{let i=a._$AA.parentNode,n=t===void 0?a._$AB:t._$AA;if(e===void 0){let r=i.insertBefore(qt(),n),s=i.insertBefore(qt(),n);e=new Hi(r,s,a,a.options)}else{let r=e._$AB.nextSibling,s=e._$AM,d=s!==a;if(d){let l;e._$AQ?.(a),e._$AM=a,e._$AP!==void 0&&(l=a._$AU)!==s._$AU&&e._$AP(l)}if(r!==n||d){let l=e._$AA;for(;l!==r;){let p=jt(l).nextSibling;jt(i).insertBefore(l,n),l=p}}}return e},K=(a,t,e=a)=>(a._$AI(t,e),a),Ui={},De=(a,t=Ui)=>a._$AH=t,Ot=a=>a._$AH,je=a=>{a._$AR(),a._$AA.remove()};var Ht=(a,t,e)=>{let i=new Map;for(let n=t;n<=e;n++)i.set(a[n],n);return i},Ut=Ie(class extends ae{constructor(a){if(super(a),a.type!==Dt.CHILD)throw Error("repeat() can only be used in text expressions")}dt(a,t,e){let i;e===void 0?e=t:t!==void 0&&(i=t);let n=[],r=[],s=0;for(let d of a)n[s]=i?i(d,s):s,r[s]=e(d,s),s++;return{values:r,keys:n}}render(a,t,e){return this.dt(a,t,e).values}update(a,[t,e,i]){let n=Ot(a),{values:r,keys:s}=this.dt(t,e,i);if(!Array.isArray(n))return this.ut=s,r;let d=this.ut??=[],l=[],p,b,c=0,_=n.length-1,g=0,y=r.length-1;for(;c<=_&&g<=y;)if(n[c]===null)c++;else if(n[_]===null)_--;else if(d[c]===s[g])l[g]=K(n[c],r[g]),c++,g++;else if(d[_]===s[y])l[y]=K(n[_],r[y]),_--,y--;else if(d[c]===s[y])l[y]=K(n[c],r[y]),oe(a,l[y+1],n[c]),c++,y--;else if(d[_]===s[g])l[g]=K(n[_],r[g]),oe(a,n[c],n[_]),_--,g++;else if(p===void 0&&(p=Ht(s,g,y),b=Ht(d,c,_)),p.has(d[c]))if(p.has(d[_])){let w=b.get(s[g]),I=w!==void 0?n[w]:null;if(I===null){let pt=oe(a,n[c]);K(pt,r[g]),l[g]=pt}else l[g]=K(I,r[g]),oe(a,n[c],I),n[w]=null;g++}else je(n[_]),_--;else je(n[c]),c++;for(;g<=y;){let w=oe(a,l[y+1]);K(w,r[g]),l[g++]=w}for(;c<=_;){let w=n[c++];w!==null&&je(w)}return this.ut=s,De(a,l),q}});var Kt=[10,25,50,100],S=class extends A{constructor(){super(...arguments);this.rows=[];this.columns=[];this.rowKey=e=>String(e);this.searchText=()=>"";this.name="";this.empty="";this.pageSize=25;this.sortKey="";this.sortDescending=!1;this.query="";this.page=0}createRenderRoot(){return this}showRow(e){let i=this.visible().findIndex(n=>this.rowKey(n)===e);i>=0&&(this.page=Math.floor(i/this.pageSize))}visible(){let e=this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean),i=e.length?this.rows.filter(r=>{let s=this.searchText(r).toLocaleLowerCase();return e.every(d=>s.includes(d))}):this.rows.slice(),n=this.columns.find(r=>r.key===this.sortKey&&r.sort);if(n?.sort){let r=n.sort,s=new Intl.Collator(this.i18n.language,{numeric:!0,sensitivity:"base"});i=i.sort((d,l)=>{let p=r(d),b=r(l),c=typeof p=="number"&&typeof b=="number"?p-b:s.compare(String(p),String(b));return this.sortDescending?-c:c})}return i}sortBy(e){this.sortKey===e?this.sortDescending=!this.sortDescending:(this.sortKey=e,this.sortDescending=!1)}render(){let e=this.i18n.t.bind(this.i18n),i=this.visible(),n=Math.max(1,Math.ceil(i.length/this.pageSize)),r=Math.min(this.page,n-1),s=i.slice(r*this.pageSize,(r+1)*this.pageSize),d=i.length?r*this.pageSize+1:0,l=r*this.pageSize+s.length;return o`
      <div class="table-toolbar">
        <input
          class="search"
          type="search"
          name="search"
          aria-label=${e("search")}
          placeholder=${e("search")}
          .value=${this.query}
          @input=${p=>{this.query=p.target.value,this.page=0}}
        />
        ${this.filters??u}
        <span class="muted count" data-count=${i.length}
          >${e("rows_of",{first:d,last:l,total:i.length})}</span
        >
      </div>
      ${i.length?o`<table class="data-table" data-table=${this.name}>
            <thead>
              <tr>
                ${this.columns.map(p=>p.sort?o`<th
                        aria-sort=${this.sortKey===p.key?this.sortDescending?"descending":"ascending":"none"}
                      >
                        <button class="sort" data-sort=${p.key} @click=${()=>this.sortBy(p.key)}>
                          ${p.title}${this.sortKey===p.key?this.sortDescending?" ▼":" ▲":""}
                        </button>
                      </th>`:o`<th>${p.title}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${Ut(s,p=>this.rowKey(p),p=>o`<tr data-key=${this.rowKey(p)}>
                    ${this.columns.map(b=>o`<td class=${b.className??""} data-label=${b.title}>${b.render(p)}</td>`)}
                  </tr>
                  ${this.expanded?this.expanded(p):u}`)}
            </tbody>
          </table>`:o`<p class="muted empty">${this.query?e("no_match"):this.empty||e("none")}</p>`}
      ${n>1||i.length>Kt[0]?o`<div class="pager">
            <label class="inline-label"
              >${e("rows_per_page")}
              <select
                name="page_size"
                @change=${p=>{this.pageSize=Number(p.target.value),this.page=0}}
              >
                ${Kt.map(p=>o`<option value=${p} ?selected=${p===this.pageSize}>${p}</option>`)}
              </select></label
            >
            <button class="secondary" data-page="previous" ?disabled=${r===0} @click=${()=>this.page=r-1}>
              ‹ ${e("previous")}
            </button>
            <span class="muted">${e("page_of",{page:r+1,pages:n})}</span>
            <button
              class="secondary"
              data-page="next"
              ?disabled=${r>=n-1}
              @click=${()=>this.page=r+1}
            >
              ${e("next")} ›
            </button>
          </div>`:u}
    `}};m([k({attribute:!1})],S.prototype,"rows",2),m([k({attribute:!1})],S.prototype,"columns",2),m([k({attribute:!1})],S.prototype,"rowKey",2),m([k({attribute:!1})],S.prototype,"searchText",2),m([k({attribute:!1})],S.prototype,"expanded",2),m([k({attribute:!1})],S.prototype,"filters",2),m([k({attribute:!1})],S.prototype,"i18n",2),m([k()],S.prototype,"name",2),m([k()],S.prototype,"empty",2),m([k({type:Number})],S.prototype,"pageSize",2),m([k()],S.prototype,"sortKey",2),m([k({type:Boolean})],S.prototype,"sortDescending",2),m([h()],S.prototype,"query",2),m([h()],S.prototype,"page",2),S=m([$("fluxilab-data-table")],S);var Ft="mdi:clock-outline";function Bt(a,t){return t.buffered?a.t("recorded_offline"):null}function F(a,t){let e=Bt(a,t);return e===null?u:o`<span class="offline-mark" data-buffered title=${e} role="img" aria-label=${e}
    ><ha-icon icon=${Ft}></ha-icon
  ></span>`}var Ki=8,P=class extends A{constructor(){super(...arguments);this.items=[];this.value=[];this.multiple=!1;this.label="";this.name="";this.placeholder="";this.error="";this.query="";this.focused=!1}createRenderRoot(){return this}found(){let e=this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean),i=new Set(this.value);return this.items.filter(n=>!i.has(n.id)).filter(n=>{let r=`${n.label} ${n.sub??""} ${n.id}`.toLocaleLowerCase();return e.every(s=>r.includes(s))}).slice(0,Ki)}set(e){this.value=e,this.dispatchEvent(new CustomEvent("change",{detail:e,bubbles:!0}))}pick(e){this.set(this.multiple?[...this.value,e.id]:[e.id]),this.query="",this.multiple||(this.focused=!1),this.querySelector("input")?.focus()}clear(){this.query="",this.set([])}render(){let e=this.i18n.t.bind(this.i18n),i=new Map(this.items.map(r=>[r.id,r])),n=this.focused||this.query?this.found():[];return o`<div class="picker ${this.error?"invalid":""}" data-picker=${this.name}>
      <label class="field-label" for="picker-${this.name}">${this.label}</label>
      ${this.value.length?o`<div class="chips picked">
            ${this.value.map(r=>o`<span class="chip pick" data-picked=${r}
                >${i.get(r)?.label??r}
                <button
                  type="button"
                  class="chip-remove"
                  aria-label=${e("remove_pick",{name:i.get(r)?.label??r})}
                  @click=${()=>this.set(this.value.filter(s=>s!==r))}
                >
                  ×
                </button></span
              >`)}
          </div>`:u}
      <input
        id="picker-${this.name}"
        type="search"
        name=${this.name}
        autocomplete="off"
        role="combobox"
        aria-expanded=${n.length>0}
        aria-invalid=${this.error?"true":"false"}
        placeholder=${this.placeholder||e("type_to_search")}
        .value=${this.query}
        @input=${r=>this.query=r.target.value}
        @focus=${()=>this.focused=!0}
        @blur=${()=>setTimeout(()=>this.focused=!1,200)}
        @keydown=${r=>{if(r.key==="Enter"){r.preventDefault();let[s]=this.found();s&&this.pick(s)}}}
      />
      ${n.length?o`<ul class="options" role="listbox">
            ${n.map(r=>o`<li
                role="option"
                data-option=${r.id}
                @mousedown=${s=>s.preventDefault()}
                @click=${()=>this.pick(r)}
              >
                ${r.label}${r.sub?o` <span class="muted">${r.sub}</span>`:u}
              </li>`)}
          </ul>`:this.query?o`<div class="muted options-empty">${e("no_match")}</div>`:u}
      ${this.error?o`<div class="field-error" role="alert">${this.error}</div>`:u}
    </div>`}};m([k({attribute:!1})],P.prototype,"items",2),m([k({attribute:!1})],P.prototype,"value",2),m([k({attribute:!1})],P.prototype,"i18n",2),m([k({type:Boolean})],P.prototype,"multiple",2),m([k()],P.prototype,"label",2),m([k()],P.prototype,"name",2),m([k()],P.prototype,"placeholder",2),m([k()],P.prototype,"error",2),m([h()],P.prototype,"query",2),m([h()],P.prototype,"focused",2),P=m([$("fluxilab-picker")],P);function Wt(a){if(a==null||a==="")return null;let t=typeof a=="number"?a*1e3:new Date(a).getTime();return Number.isFinite(t)?t:null}function Fi(a){let t=new Date(a.getFullYear(),a.getMonth(),a.getDate());return t.setDate(t.getDate()-(t.getDay()+6)%7),t}function Gt(a,t=8,e=new Date){let i=Fi(e),n=[];for(let l=t-1;l>=0;l--){let p=new Date(i);p.setDate(p.getDate()-7*l),n.push(p)}let r=n.map((l,p)=>[l.getTime(),p+1<n.length?n[p+1].getTime():l.getTime()+6048e5]),s=new Map;for(let l of a){let p=Wt(l.start);if(p===null)continue;let b=Wt(l.end)??(typeof l.duration=="number"?p+l.duration*1e3:Math.max(p,e.getTime())),c=s.get(l.device_id)??new Array(t).fill(0);r.forEach(([_,g],y)=>{let w=Math.min(b,g)-Math.max(p,_);w>0&&(c[y]+=w/36e5)}),s.set(l.device_id,c)}let d=[...s.entries()].map(([l,p])=>({device_id:l,hours:p})).filter(l=>l.hours.some(p=>p>0)).sort((l,p)=>p.hours.reduce((b,c)=>b+c,0)-l.hours.reduce((b,c)=>b+c,0));return{weeks:n,rows:d}}function qe(a){return a?a.areas.flatMap(t=>t.devices).filter(t=>t.in_use).map(t=>`${t.device_id}\0${t.member_name??""}`).sort().join(""):""}var Yt=["admin","decision","routing","maintenance","training"];function Oe(a,t){let e=t.replace(/_/g," ");return e.charAt(0).toLocaleUpperCase(a.language)+e.slice(1)}function it(a,t){return a.maybe(`field_${t}`)??a.maybe(t)??Oe(a,t)}function nt(a,t,e){return e==null||e===""?"—":typeof e=="string"?t==="role"?a.maybe(`role_${e}`)??e:t==="offline_policy"?a.maybe(`offline_${e}`)??e:/^\d{4}-\d\d-\d\dT/.test(e)?a.when(e):e:typeof e=="number"||typeof e=="boolean"?a.number(e):Array.isArray(e)?e.length?e.map(i=>nt(a,t,i)).join(", "):"—":JSON.stringify(e)}function rt(a,t){let e=[];for(let[i,n]of Object.entries(t.changes??{})){let r=n;if(i==="credentials")for(let[s,d]of Object.entries(r))e.push(`${s==="pin"?a.t("field_pin"):s}: ${Zt(a,d.action??"updated")}`);else r.masked?e.push(`${it(a,i)}: ${a.t("audit_masked")}`):r.changed?e.push(`${it(a,i)}: ${a.t("audit_changed")}`):e.push(`${it(a,i)}: ${nt(a,i,r.before)} → ${nt(a,i,r.after)}`)}return e}function Zt(a,t){return a.maybe(`action_${t}`)??Oe(a,t)}function Jt(a,t){let e=a.maybe(`target_${t.target??""}`)??Oe(a,t.target??""),i=t.target==="credential"&&t.label==="pin"?a.t("field_pin"):t.label;return`${e} ${Zt(a,t.action??"updated").toLocaleLowerCase(a.language)}${i?`: ${i}`:""}`}function st(a,t){return a.maybe(`door_${t.door??"system"}`)??Oe(a,t.door??"")}function Qt(a,t,e){return t.actor_name?t.actor_name:t.actor_member_id?e(t.actor_member_id)??"—":t.anonymized?a.t("audit_anonymized"):t.door==="options_flow"?a.t("audit_ha_admin"):!t.door||t.door==="system"?a.t("audit_system"):"—"}var Xt=100,L=class extends x{constructor(){super(...arguments);this.entries=null;this.next=null;this.member="";this.device="";this.kind="";this.offlineOnly=!1;this.busyKeys=new Set;this.sessions=null}connectedCallback(){super.connectedCallback(),this.sessions=null,this.load()}updated(){let e=qe(this.ctx.lab),i=(this.entries?.length??0)>Xt;this.sessions!==null&&e!==this.sessions&&!i&&!this.busyKeys.has("audit")&&this.load(),this.sessions=e}async load(e=!1){let i=e?this.next:null,n=await f(this,"audit",()=>this.ctx.client.audit({limit:Xt,...this.member?{member_id:this.member}:{},...this.device?{device_id:this.device}:{},...this.kind?{kind:this.kind}:{},...this.offlineOnly?{buffered:!0}:{},...i!==null?{before:i}:{}}));n&&(this.entries=e?[...this.entries??[],...n.audit]:n.audit,this.next=n.next)}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,n=this.entries??[],r=c=>e.members.find(_=>_.id===c)?.name,s=c=>c.member_name??(c.member_id?E(e,c.member_id):e.users.find(_=>_.id===c.user_id)?.name??"—"),d=c=>c.kind==="admin"?Qt(i,c,r):"",l=c=>c.kind==="admin"?Jt(i,c):i.reason(c.reason),p=[{key:"ts",title:this.t("time"),sort:c=>c.ts,render:c=>o`${i.when(c.ts)}${F(i,c)}`},{key:"kind",title:this.t("kind"),sort:c=>i.kind(c.kind),render:c=>i.kind(c.kind)},{key:"by",title:this.t("audit_by"),sort:d,render:c=>o`<span class="actor">${d(c)}</span>`},{key:"device",title:this.t("device"),sort:c=>T(e,c.device_id),render:c=>T(e,c.device_id)},{key:"member",title:this.t("member"),sort:s,render:s},{key:"what",title:this.t("audit_what"),sort:l,render:l},{key:"change",title:this.t("audit_change"),render:c=>c.kind==="admin"?o`${rt(i,c).map(_=>o`<div class="change">${_}</div>`)}`:u},{key:"door",title:this.t("audit_door"),sort:c=>c.kind==="admin"?st(i,c):"",render:c=>c.kind==="admin"?o`<span title=${c.operation??""}>${st(i,c)}</span>`:u}],b=()=>{this.load()};return o`
      <div class="inline filters">
        <fluxilab-picker
          name="member_id"
          .i18n=${i}
          label=${this.t("member")}
          placeholder=${this.t("all")}
          .items=${e.members.map(c=>({id:c.id,label:c.name}))}
          .value=${this.member?[this.member]:[]}
          @change=${c=>{this.member=c.target.value[0]??"",b()}}
        ></fluxilab-picker>
        <fluxilab-picker
          name="device_id"
          .i18n=${i}
          label=${this.t("device")}
          placeholder=${this.t("all")}
          .items=${e.devices.map(c=>({id:c.device_id,label:c.name,sub:c.device_id}))}
          .value=${this.device?[this.device]:[]}
          @change=${c=>{this.device=c.target.value[0]??"",b()}}
        ></fluxilab-picker>
        <label>
          ${this.t("kind")}
          <select
            name="kind_filter"
            @change=${c=>{this.kind=c.target.value,b()}}
          >
            <option value="" ?selected=${!this.kind}>${this.t("all_kinds")}</option>
            ${Yt.map(c=>o`<option value=${c} ?selected=${this.kind===c}>${i.kind(c)}</option>`)}
          </select>
        </label>
        <label class="check"
          ><input
            type="checkbox"
            name="offline_only"
            .checked=${this.offlineOnly}
            @change=${c=>{this.offlineOnly=c.target.checked,b()}}
          />
          ${this.t("recorded_offline_only")}</label
        >
        <div class="actions">
          <button class="secondary" data-action="audit-refresh" ?disabled=${this.busyKeys.has("audit")} @click=${b}>
            ${this.t("refresh")}
          </button>
        </div>
      </div>
      ${this.entries?o`<fluxilab-data-table
              name="audit"
              .i18n=${i}
              .rows=${n}
              .columns=${p}
              sortKey="ts"
              sortDescending
              .rowKey=${c=>String(c.entry_id)}
              .searchText=${c=>`${d(c)} ${s(c)} ${T(e,c.device_id)} ${i.kind(c.kind)} ${l(c)} ${rt(i,c).join(" ")}`}
            ></fluxilab-data-table>
            <div class="actions">
              <span class="muted">${this.t("audit_shown",{count:n.length})}</span>
              ${this.next!==null?o`<button
                    class="secondary"
                    data-action="audit-more"
                    ?disabled=${this.busyKeys.has("audit")}
                    @click=${()=>{this.load(!0)}}
                  >
                    ${this.t("audit_more")}
                  </button>`:u}
            </div>`:o`<p class="muted">${this.t("loading")}</p>`}
    `}};m([h()],L.prototype,"entries",2),m([h()],L.prototype,"next",2),m([h()],L.prototype,"member",2),m([h()],L.prototype,"device",2),m([h()],L.prototype,"kind",2),m([h()],L.prototype,"offlineOnly",2),L=m([$("fluxilab-audit-view")],L);function He(a,t){return t.machine_type_id?a.machine_types.find(e=>e.id===t.machine_type_id)?.name??t.machine_type_id:a.devices.find(e=>e.device_id===t.device_id)?.name??t.device_id??"—"}function Bi(a){return a.machine_type_id?`type:${a.machine_type_id}`:`device:${a.device_id}`}function Wi(a,t){return[...a.machine_types.map(e=>({id:`type:${e.id}`,label:e.name,sub:t("machine_type")})),...a.devices.map(e=>({id:`device:${e.device_id}`,label:e.name,sub:`${t("device")} · ${e.device_id}`}))]}var O=class extends x{constructor(){super(...arguments);this.members=[];this.targets=[];this.targetFilter="";this.errors={};this.fresh=new Set;this.busyKeys=new Set}async revoke(e,i){!await this.ctx.confirm({text:this.t("confirm_revoke",{name:E(i,e.member_id),target:He(i,e)}),action:this.t("revoke"),danger:!0})||await f(this,`revoke:${e.id}`,()=>this.ctx.client.revoke(e.id))===void 0||(this.ctx.done("revoked"),await this.ctx.reloadAdmin())}async grant(e){e.preventDefault();let i=e.target,n=new FormData(i),r={};if(this.members.length||(r.member_ids=this.t("pick_members")),this.targets.length||(r.target=this.t("pick_targets")),this.errors=r,Object.keys(r).length)return;let s=v(n,"expires"),d=n.has("trainer"),l=[];try{await f(this,"grant",async()=>{for(let p of this.targets){let[b,c]=p.split(/:(.*)/s),_=await this.ctx.client.grant({member_ids:this.members,...b==="type"?{machine_type_id:c}:{device_id:c},...s?{expires:`${s}T23:59:59`}:{},...d?{trainer:!0}:{}});l.push(..._.authorization_ids)}},{quiet:!0})}catch(p){this.errors={form:this.ctx.i18n.error(p)},l.length&&await this.ctx.reloadAdmin();return}this.fresh=new Set(l),this.members=[],this.targets=[],i.reset(),this.ctx.done("granted",{count:l.length}),await this.ctx.reloadAdmin()}error(e){let i=this.errors[e];return i?o`<span class="field-error" role="alert" data-error=${e}>${i}</span>`:u}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,r=Wi(e,l=>this.t(l)),s=e.authorizations.filter(l=>!this.targetFilter||Bi(l)===this.targetFilter).slice().reverse(),d=[{key:"member",title:this.t("member"),sort:l=>E(e,l.member_id),render:l=>o`${E(e,l.member_id)}${this.fresh.has(l.id)?o` <span class="chip ok">${this.t("new")}</span>`:u}`},{key:"target",title:this.t("target"),sort:l=>He(e,l),render:l=>o`${He(e,l)}
          ${l.trainer?o`<span class="chip info">${this.t("trainer")}</span>`:u}
          ${l.granted_by?o`<span class="muted">${this.t("trained_by",{name:E(e,l.granted_by)})}</span>`:u}`},{key:"expires",title:this.t("expires"),sort:l=>l.expires??"9999",render:l=>l.expires?i.day(l.expires):this.t("never")},{key:"actions",title:"",className:"actions",render:l=>o`<button
          class="danger"
          data-action="revoke"
          data-auth=${l.id}
          ?disabled=${this.busyKeys.has(`revoke:${l.id}`)}
          @click=${()=>{this.revoke(l,e)}}
        >
          ${this.t("revoke")}
        </button>`}];return o`
      <fluxilab-data-table
        name="authorizations"
        .i18n=${i}
        .rows=${s}
        .columns=${d}
        .rowKey=${l=>l.id}
        .searchText=${l=>`${E(e,l.member_id)} ${l.member_id} ${He(e,l)}`}
        .filters=${o`<select
          name="target_filter"
          aria-label=${this.t("target")}
          @change=${l=>this.targetFilter=l.target.value}
        >
          <option value="">${this.t("all_targets")}</option>
          ${r.map(l=>o`<option value=${l.id}>${l.label} (${l.sub})</option>`)}
        </select>`}
      ></fluxilab-data-table>
      <h2>${this.t("grant_to")}</h2>
      <form data-form="grant" class="card" novalidate @submit=${l=>{this.grant(l)}}>
        <fluxilab-picker
          multiple
          name="member_ids"
          .i18n=${i}
          label=${this.t("members")}
          .items=${e.members.map(l=>({id:l.id,label:l.name,sub:l.email??void 0}))}
          .value=${this.members}
          error=${this.errors.member_ids??""}
          @change=${l=>{this.members=l.target.value,this.errors={...this.errors,member_ids:""}}}
        ></fluxilab-picker>
        <fluxilab-picker
          multiple
          name="target"
          .i18n=${i}
          label=${this.t("machines")}
          .items=${r}
          .value=${this.targets}
          error=${this.errors.target??""}
          @change=${l=>{this.targets=l.target.value,this.errors={...this.errors,target:""}}}
        ></fluxilab-picker>
        <label>${this.t("expires")}<input name="expires" type="date" /></label>
        <label class="check"><input type="checkbox" name="trainer" /> ${this.t("trainer")}</label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("grant")}>
            ${this.members.length&&this.targets.length?this.t("grant_count",{count:this.members.length*this.targets.length}):this.t("grant")}
          </button>
          ${this.error("form")}
        </div>
      </form>
    `}};m([h()],O.prototype,"members",2),m([h()],O.prototype,"targets",2),m([h()],O.prototype,"targetFilter",2),m([h()],O.prototype,"errors",2),m([h()],O.prototype,"fresh",2),O=m([$("fluxilab-authorizations-view")],O);function Vt(a){let t=a.trim().replace(",",".");if(!/^\d{1,9}(\.\d{0,2})?$/.test(t))return null;let[e,i=""]=t.split(".");return Number(e)*100+Number(i.padEnd(2,"0"))}function ei(a,t){return new Intl.NumberFormat(t,{minimumFractionDigits:2,maximumFractionDigits:2}).format(a/100)}function ti(a){return a==null?"":`${Math.trunc(a/100)}.${String(a%100).padStart(2,"0")}`}function ii(a=new Date){let t=new Date(a.getFullYear(),a.getMonth()-1,1);return`${t.getFullYear()}-${String(t.getMonth()+1).padStart(2,"0")}`}var at="fluxilab-print-statement",Gi=["training","maintenance","staff"],C=class extends x{constructor(){super(...arguments);this.projects=[];this.project="";this.month=ii();this.statement=null;this.printing=!1;this.error="";this.errors={};this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.loadProjects()}disconnectedCallback(){super.disconnectedCallback(),this.closePrint()}async loadProjects(){let e=await f(this,"projects",()=>this.ctx.client.projects());e!==void 0&&(this.projects=e,!this.project&&e.length&&(this.project=e[0].id))}async show(){try{this.statement=await f(this,"statement",()=>this.ctx.client.statement(this.project||null,this.month),{quiet:!0})??null,this.error=""}catch(e){this.statement=null,this.error=this.ctx.i18n.error(e)}}async charge(e,i){await f(this,`line:${e.session_id}`,()=>this.ctx.client.setSessionCharge(e.session_id,i))!==void 0&&(this.ctx.done(),await this.show())}async csv(){let e=await f(this,"csv",()=>this.ctx.client.statementCsv(this.project||null,this.month));e!==void 0&&R(e,`fluxilab-statement-${this.project||"none"}-${this.month}.csv`,"text/csv")}async createProject(e){e.preventDefault();let i=e.target,n=new FormData(i),r=v(n,"name").trim();if(!r){this.errors={name:this.t("field_required")};return}let s;try{s=await f(this,"project",()=>this.ctx.client.projectCreate({name:r,code:v(n,"code").trim()}),{quiet:!0})}catch(d){let l=N.errorField(d);this.errors={[l==="name"||l==="code"?l:"project"]:this.ctx.i18n.error(d)};return}this.errors={},s!==void 0&&(i.reset(),this.ctx.done(),this.project=s.id,await this.loadProjects())}fieldError(e){let i=this.errors[e];return i?o`<span class="field-error" role="alert" data-error=${e}>${i}</span>`:u}async removeProject(e){await this.ctx.confirm({text:this.t("confirm_delete_project",{name:e.name}),action:this.t("delete"),danger:!0})&&await f(this,`project-delete:${e.id}`,()=>this.ctx.client.projectDelete(e.id))!==void 0&&(this.project===e.id&&(this.project=""),this.ctx.done(),await this.loadProjects())}async setDefault(e){e.preventDefault();let i=new FormData(e.target),n=v(i,"member_id");!n||await f(this,"default",()=>this.ctx.client.setDefaultProject(n,v(i,"project_id")||null))===void 0||(this.ctx.done(),await this.loadProjects())}print(){if(this.printing=!0,!document.getElementById(at)){let e=document.createElement("style");e.id=at,e.textContent="@media print { body * { visibility: hidden !important; } }",document.head.appendChild(e)}}closePrint(){this.printing=!1,document.getElementById(at)?.remove()}money(e){return ei(e,this.ctx.i18n.language)}minutes(e){return this.ctx.i18n.number(Math.round(e/60))}heading(e){let i=e.project?`${e.project.name}${e.project.code?` (${e.project.code})`:""}`:this.t("no_project");return this.t("statement_title",{project:i,month:e.month})}body(e,i){let n=this.ctx.i18n;return o`
      <table data-table="statement-types">
        <tr>
          <th>${this.t("machine_type")}</th>
          <th>${this.t("statement_sessions")}</th>
          <th>${this.t("billed_minutes")}</th>
          <th>${this.t("amount")}</th>
        </tr>
        ${e.by_machine_type.map(r=>o`<tr>
            <td>${r.name??"—"}</td>
            <td>${r.sessions}</td>
            <td>${this.minutes(r.billed_seconds)}</td>
            <td class="amount">${this.money(r.cents)}</td>
          </tr>`)}
        <tr class="total" data-total=${e.total.cents}>
          <th>${this.t("total")}</th>
          <th>${e.total.sessions}</th>
          <th>${this.minutes(e.total.billed_seconds)}</th>
          <th class="amount">${this.money(e.total.cents)}</th>
        </tr>
      </table>
      <div class="table-wrap">
        <table data-table="statement-lines">
          <tr>
            <th>${this.t("start")}</th>
            <th>${this.t("member")}</th>
            <th>${this.t("device")}</th>
            <th>${this.t("duration")}</th>
            <th>${this.t("billed_minutes")}</th>
            <th>${this.t("busy_idle_minutes")}</th>
            <th>${this.t("amount")}</th>
            ${i?o`<th>${this.t("charge_to")}</th><th>${this.t("non_billable")}</th>`:o`<th>${this.t("non_billable")}</th>`}
          </tr>
          ${e.lines.map(r=>o`<tr data-session=${r.session_id}>
              <td data-label=${this.t("start")}>${n.when(r.start)}</td>
              <td data-label=${this.t("member")}>${r.member_name??E(this.ctx.admin,r.member_id)}</td>
              <td data-label=${this.t("device")}>${r.device_name}</td>
              <td data-label=${this.t("duration")}>${n.duration(r.seconds)}</td>
              <td data-label=${this.t("billed_minutes")}>${this.minutes(r.billed_seconds)}</td>
              <td data-label=${this.t("busy_idle_minutes")}>${this.minutes(r.busy_seconds)} / ${this.minutes(r.idle_seconds)}</td>
              <td data-label=${this.t("amount")} class="amount">
                ${this.money(r.cents)}${r.minimum_applied?o` <span class="muted">(${this.t("minimum")})</span>`:u}
              </td>
              ${i?o`<td data-label=${this.t("charge_to")}>
                      <select
                        data-action="charge-project"
                        ?disabled=${this.busyKeys.has(`line:${r.session_id}`)}
                        @change=${s=>{this.charge(r,{project_id:s.target.value||null})}}
                      >
                        <option value="" ?selected=${!e.project}>${this.t("no_project")}</option>
                        ${this.projects.map(s=>o`<option value=${s.id} ?selected=${s.id===e.project?.id}>${s.name}</option>`)}
                      </select>
                    </td>
                    <td data-label=${this.t("non_billable")}>
                      <select
                        data-action="charge-non-billable"
                        ?disabled=${this.busyKeys.has(`line:${r.session_id}`)}
                        @change=${s=>{this.charge(r,{non_billable:s.target.value||null})}}
                      >
                        <option value="" ?selected=${!r.non_billable}>${this.t("billable")}</option>
                        ${Gi.map(s=>o`<option value=${s} ?selected=${r.non_billable===s}>${this.t(`non_billable_${s}`)}</option>`)}
                      </select>
                    </td>`:o`<td>${r.non_billable?this.t(`non_billable_${r.non_billable}`):""}</td>`}
            </tr>`)}
        </table>
      </div>
      ${e.lines.length?u:o`<p class="muted">${this.t("no_sessions")}</p>`}
    `}printable(e){return o`<section class="printable" role="dialog" aria-modal="true" aria-label=${this.t("print_list")}>
      <div class="actions no-print">
        <button class="primary" data-action="print-now" @click=${()=>window.print()}>${this.t("print_list")}</button>
        <button class="secondary" data-action="print-close" @click=${()=>this.closePrint()}>${this.t("close")}</button>
      </div>
      <h1>${this.heading(e)}</h1>
      <p>${this.ctx.i18n.when(new Date().toISOString())}</p>
      ${this.body(e,!1)}
    </section>`}projectsSection(){let e=this.ctx.admin,i=n=>this.projects.find(r=>r.default_members.includes(n));return o`<h2>${this.t("projects")}</h2>
      <div class="table-wrap">
        <table data-table="projects">
          <tr>
            <th>${this.t("name")}</th>
            <th>${this.t("project_code")}</th>
            <th>${this.t("project_members")}</th>
            <th>${this.t("project_defaults")}</th>
            <th></th>
          </tr>
          ${this.projects.map(n=>o`<tr data-project=${n.id}>
              <td data-label=${this.t("name")}>${n.name}</td>
              <td data-label=${this.t("project_code")}>${n.code||"—"}</td>
              <td data-label=${this.t("project_members")}>${n.members.map(r=>E(e,r)).join(", ")||"—"}</td>
              <td data-label=${this.t("project_defaults")}>${n.default_members.map(r=>E(e,r)).join(", ")||"—"}</td>
              <td class="actions">
                <button
                  class="danger"
                  data-action="project-delete"
                  ?disabled=${this.busyKeys.has(`project-delete:${n.id}`)}
                  @click=${()=>{this.removeProject(n)}}
                >
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`)}
        </table>
      </div>
      <form data-form="project" class="inline" novalidate @submit=${n=>{this.createProject(n)}}>
        <label>${this.t("name")}<input name="name" maxlength="100" required />${this.fieldError("name")}</label>
        <label>${this.t("project_code")}<input name="code" maxlength="64" />${this.fieldError("code")}</label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("project")}>${this.t("new_project")}</button>
          ${this.fieldError("project")}
        </div>
      </form>
      <form data-form="default-project" class="inline" novalidate @submit=${n=>{this.setDefault(n)}}>
        <label
          >${this.t("member")}<select name="member_id">
            ${(e?.members??[]).map(n=>o`<option value=${n.id}>${n.name}${i(n.id)?` (${i(n.id)?.name})`:""}</option>`)}
          </select></label
        >
        <label
          >${this.t("default_project")}<select name="project_id">
            <option value="">${this.t("no_project")}</option>
            ${this.projects.map(n=>o`<option value=${n.id}>${n.name}</option>`)}
          </select></label
        >
        <div class="actions">
          <button class="secondary" type="submit" ?disabled=${this.busyKeys.has("default")}>${this.t("set_default_project")}</button>
        </div>
      </form>`}render(){let e=this.statement;return o`
      <form
        data-form="statement"
        class="inline filters"
        novalidate
        @submit=${i=>{i.preventDefault(),this.show()}}
      >
        <label
          >${this.t("project")}<select name="project_id" @change=${i=>this.project=i.target.value}>
            ${this.projects.map(i=>o`<option value=${i.id} ?selected=${i.id===this.project}>${i.name}</option>`)}
            <option value="" ?selected=${!this.project}>${this.t("no_project")}</option>
          </select></label
        >
        <label
          >${this.t("month")}<input
            type="month"
            name="month"
            .value=${this.month}
            @change=${i=>this.month=i.target.value}
        /></label>
        <div class="actions">
          <button class="primary" type="submit" data-action="statement" ?disabled=${this.busyKeys.has("statement")}>
            ${this.t("show_statement")}
          </button>
          ${e?o`<button class="secondary" type="button" data-action="statement-print" @click=${()=>this.print()}>
                  ${this.t("print_list")}
                </button>
                <button class="secondary" type="button" data-action="statement-csv" ?disabled=${this.busyKeys.has("csv")} @click=${()=>{this.csv()}}>
                  ${this.t("download_csv")}
                </button>`:u}
          ${this.error?o`<span class="field-error" role="alert">${this.error}</span>`:u}
        </div>
      </form>
      ${e?o`<h2>${this.heading(e)}</h2>${this.body(e,!0)}`:u}
      ${e&&this.printing?this.printable(e):u}
      ${this.projectsSection()}
    `}};m([h()],C.prototype,"projects",2),m([h()],C.prototype,"project",2),m([h()],C.prototype,"month",2),m([h()],C.prototype,"statement",2),m([h()],C.prototype,"printing",2),m([h()],C.prototype,"error",2),m([h()],C.prototype,"errors",2),C=m([$("fluxilab-billing-view")],C);var ge=class extends x{constructor(){super(...arguments);this.statusFilter="";this.busyKeys=new Set}async block(e){let i=!e.blocked;i&&!await this.ctx.confirm({text:this.t("confirm_block",{name:e.name}),action:this.t("block"),danger:!0})||await f(this,`block:${e.device_id}`,()=>this.ctx.client.block(e.device_id,i))===void 0||(this.ctx.done(i?"blocked_device":"unblocked_device",{name:e.name}),await this.ctx.reloadAdmin())}async maintenance(e){!await this.ctx.confirm({text:this.t("confirm_maintenance",{name:e.name}),action:this.t("record_maintenance")})||await f(this,`maint:${e.device_id}`,()=>this.ctx.client.recordMaintenance(e.device_id))===void 0||(this.ctx.done("maintenance_recorded",{name:e.name}),await this.ctx.reloadAdmin())}shows(e){switch(this.statusFilter){case"online":return e.online;case"offline":return!e.online;case"link_broken":return e.link==="broken";case"blocked":return e.blocked;case"maintenance_due":return e.maintenance_due;default:return!0}}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,n=[{key:"name",title:this.t("device"),sort:r=>r.name,render:r=>o`${r.name}<div class="muted">${r.device_id}${r.machine_type?` · ${r.machine_type}`:""}</div>`},{key:"status",title:this.t("status"),sort:r=>Number(r.online)*8+ +(r.link!=="broken")*4+ +!r.blocked*2+ +!r.maintenance_due,render:r=>o`<span class="chip ${r.online?"ok":"bad"}">${r.online?this.t("online"):this.t("offline")}</span>
          ${r.link==="broken"?o`<span class="chip bad" data-status="link_broken" title=${this.t("link_broken_hint")}>${this.t("link_broken")}</span>`:u}
          ${r.blocked?o`<span class="chip bad">${this.t("blocked")}</span>`:u}
          ${r.maintenance_due?o`<span class="chip warn">${this.t("maintenance_due")}</span>`:u}`},{key:"usage",title:this.t("usage_hours"),sort:r=>r.usage_hours??0,render:r=>o`${i.number(r.usage_hours)}${typeof r.hours_to_maintenance=="number"?o` <span class="muted">(${this.t("hours_left",{hours:i.number(r.hours_to_maintenance)})})</span>`:u}`},{key:"actions",title:"",className:"actions",render:r=>o`<button
            class=${r.blocked?"secondary":"danger"}
            data-action="block"
            data-device=${r.device_id}
            data-blocked=${String(!r.blocked)}
            ?disabled=${this.busyKeys.has(`block:${r.device_id}`)}
            @click=${()=>{this.block(r)}}
          >
            ${r.blocked?this.t("unblock"):this.t("block")}
          </button>
          <button
            class="secondary"
            data-action="maintenance"
            data-device=${r.device_id}
            ?disabled=${this.busyKeys.has(`maint:${r.device_id}`)}
            @click=${()=>{this.maintenance(r)}}
          >
            ${this.t("record_maintenance")}
          </button>`}];return o`<fluxilab-data-table
      name="devices"
      .i18n=${i}
      .rows=${e.devices.filter(r=>this.shows(r))}
      .columns=${n}
      sortKey="name"
      .rowKey=${r=>r.device_id}
      .searchText=${r=>`${r.name} ${r.device_id} ${r.machine_type??""} ${r.area??""}`}
      .filters=${o`<select
        name="status_filter"
        aria-label=${this.t("status")}
        @change=${r=>this.statusFilter=r.target.value}
      >
        <option value="">${this.t("all_statuses")}</option>
        ${["online","offline","link_broken","blocked","maintenance_due"].map(r=>o`<option value=${r}>${this.t(r)}</option>`)}
      </select>`}
    ></fluxilab-data-table>`}};m([h()],ge.prototype,"statusFilter",2),ge=m([$("fluxilab-devices-view")],ge);var Yi=8,B=class extends x{constructor(){super(...arguments);this.result=null;this.member="";this.device="";this.error="";this.busyKeys=new Set;this.sessions=null}connectedCallback(){super.connectedCallback(),this.sessions=null,this.load()}updated(){let e=qe(this.ctx.lab);this.sessions!==null&&e!==this.sessions&&!this.busyKeys.has("history")&&this.load(this.querySelector('form[data-form="history"]')??void 0),this.sessions=e}async load(e){let i=e?new FormData(e):null,n={};this.member&&(n.member_id=this.member),this.device&&(n.device_id=this.device);let r=i?v(i,"start"):"",s=i?v(i,"end"):"";r&&(n.start=`${r}T00:00:00`),s&&(n.end=`${s}T23:59:59`);try{this.result=await f(this,"history",()=>this.ctx.client.history(n),{quiet:!0})??null,this.error=""}catch(d){this.error=this.ctx.i18n.error(d)}}usage(e){let{weeks:i,rows:n}=Gt(e,Yi);if(!n.length)return u;let r=this.ctx.i18n,s=Math.max(...n.flatMap(l=>l.hours),1),d=l=>l.toLocaleDateString(r.language,{day:"numeric",month:"short"});return o`<section class="card usage" data-chart="weekly-usage">
      <h3>${this.t("usage_per_week")}</h3>
      <div class="table-wrap">
        <table class="usage-chart">
          <tr>
            <th>${this.t("device")}</th>
            ${i.map(l=>o`<th>${d(l)}</th>`)}
          </tr>
          ${n.map(l=>o`<tr data-device=${l.device_id}>
                <td>${T(this.ctx.admin,l.device_id)}</td>
                ${l.hours.map((p,b)=>o`<td
                      title=${this.t("usage_week_hours",{week:d(i[b]),hours:r.number(p)})}
                    >
                      <div class="bar" style="height: ${Math.round(p/s*40)}px"></div>
                      <span class="muted">${p?r.number(Math.round(p*10)/10):""}</span>
                    </td>`)}
              </tr>`)}
        </table>
      </div>
    </section>`}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,n=s=>s.member_name||e.members.find(d=>d.id===s.member_id)?.name||s.member_id||"—",r=[{key:"member",title:this.t("member"),sort:n,render:n},{key:"device",title:this.t("device"),sort:s=>T(e,s.device_id),render:s=>T(e,s.device_id)},{key:"start",title:this.t("start"),sort:s=>new Date(s.start).getTime()||Number(s.start),render:s=>o`${i.when(s.start)}${F(i,s)}`},{key:"end",title:this.t("end"),render:s=>s.end?i.when(s.end):this.t("open_session")},{key:"duration",title:this.t("duration"),sort:s=>s.duration??0,render:s=>i.duration(s.duration)}];return o`
      <form
        data-form="history"
        class="inline filters"
        novalidate
        @submit=${s=>{s.preventDefault(),this.load(s.target)}}
      >
        <fluxilab-picker
          name="member_id"
          .i18n=${i}
          label=${this.t("member")}
          placeholder=${this.t("all")}
          .items=${e.members.map(s=>({id:s.id,label:s.name}))}
          .value=${this.member?[this.member]:[]}
          @change=${s=>this.member=s.target.value[0]??""}
        ></fluxilab-picker>
        <fluxilab-picker
          name="device_id"
          .i18n=${i}
          label=${this.t("device")}
          placeholder=${this.t("all")}
          .items=${e.devices.map(s=>({id:s.device_id,label:s.name,sub:s.device_id}))}
          .value=${this.device?[this.device]:[]}
          @change=${s=>this.device=s.target.value[0]??""}
        ></fluxilab-picker>
        <label>${this.t("from")}<input type="date" name="start" /></label>
        <label>${this.t("to")}<input type="date" name="end" /></label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("history")}>${this.t("filter")}</button>
          ${this.result?o`<button
                class="secondary"
                type="button"
                data-action="csv"
                @click=${()=>this.result&&R(this.result.csv,"fluxilab-usage.csv","text/csv")}
              >
                ${this.t("download_csv")}
              </button>`:u}
          ${this.error?o`<span class="field-error" role="alert">${this.error}</span>`:u}
        </div>
      </form>
      ${this.result?this.usage(this.result.sessions):u}
      ${this.result?o`<fluxilab-data-table
            name="history"
            .i18n=${i}
            .rows=${this.result.sessions}
            .columns=${r}
            sortKey="start"
            sortDescending
            empty=${this.t("no_sessions")}
            .rowKey=${s=>s.session_id??`${s.device_id}:${s.start}`}
            .searchText=${s=>`${n(s)} ${T(e,s.device_id)} ${s.device_id}`}
          ></fluxilab-data-table>`:o`<p class="muted">${this.t("loading")}</p>`}
    `}};m([h()],B.prototype,"result",2),m([h()],B.prototype,"member",2),m([h()],B.prototype,"device",2),m([h()],B.prototype,"error",2),B=m([$("fluxilab-history-view")],B);var Zi=/^Card (\d+)$/;function ot(a,t){let e=Zi.exec(a.label)?.[1];return e?`${t} ${e}`:a.label}function Ue(a,t="Card"){let e=ot(a,t);return a.card?`${e} (${a.card})`:e}function ni(a){let t=new Map;for(let e of a){if(e.type!=="card")continue;let i=`${e.label.trim().toLocaleLowerCase()}\0${e.card??""}`;t.set(i,[...t.get(i)??[],e.id])}return new Set([...t.values()].filter(e=>e.length>1).flat())}function Ke(a,t,e){let i=a.t.bind(a);if(!t.length)return o`<p class="muted">${i("none")}</p>`;let n=ni(t);return o`<div class="table-wrap">
    <table class="credentials">
      <tr>
        <th>${i("credential_label")}</th>
        <th>${i("credential_type")}</th>
        <th>${i("card")}</th>
        <th>${i("status")}</th>
        <th>${i("last_used")}</th>
        <th></th>
      </tr>
      ${t.map(r=>o`<tr data-credential=${r.id}>
          <td data-label=${i("credential_label")}>${ot(r,i("card"))}</td>
          <td data-label=${i("credential_type")}>${r.type==="pin"?i("type_pin"):i("type_card")}</td>
          <td data-label=${i("card")}>
            ${r.card??""}${n.has(r.id)&&r.created?o`<div class="muted" data-added=${r.id}>${i("card_added",{date:a.when(r.created)})}</div>`:u}
          </td>
          <td data-label=${i("status")}>
            <span class="chip ${r.active?"":"bad"}">${r.active?i("active"):i("inactive")}</span>
            ${r.must_change?o`<span class="chip warn">${i("must_change")}</span>`:u}
          </td>
          <td data-label=${i("last_used")}>${r.last_used?a.when(r.last_used):i("never_used")}</td>
          <td class="actions">
            ${e.admin?o`<button
                    class="secondary"
                    data-action="credential-toggle"
                    data-credential=${r.id}
                    data-active=${String(!r.active)}
                    ?disabled=${e.busy(r.id)}
                    @click=${()=>e.toggle?.(r)}
                  >
                    ${r.active?i("deactivate"):i("activate")}
                  </button>
                  <button
                    class="danger"
                    data-action="credential-remove"
                    data-credential=${r.id}
                    ?disabled=${e.busy(r.id)}
                    @click=${()=>e.remove?.(r)}
                  >
                    ${i("delete")}
                  </button>`:r.active&&r.type==="card"?o`<button
                    class="danger"
                    data-action="credential-lost"
                    data-credential=${r.id}
                    ?disabled=${e.busy(r.id)}
                    @click=${()=>e.lost?.(r)}
                  >
                    ${i("report_lost")}
                  </button>`:u}
          </td>
        </tr>`)}
    </table>
  </div>`}function lt(a,t){return a.phone_names?.[t]??t.replace(/^notify\.mobile_app_/,"").replace(/_/g," ")}var Ji={wrong_pin:"current_pin",pin_change_locked:"current_pin",no_pin:"current_pin",pin_too_short:"new_pin",pin_too_long:"new_pin",pin_unchanged:"new_pin"},W=class extends x{constructor(){super(...arguments);this.profile=null;this.lapses=null;this.notify=null;this.errors={};this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){try{let[e,i,n]=await Promise.all([this.ctx.client.profile(),this.ctx.client.lapsingMine().catch(()=>null),this.ctx.client.notifyGet().catch(()=>null)]);this.profile=e,this.lapses=i,this.notify=n}catch(e){this.ctx.fail(e)}}async reportLost(e,i){if(!await this.ctx.confirm({text:this.t("confirm_lost",{label:i}),action:this.t("report_lost"),danger:!0}))return;await f(this,e,()=>this.ctx.client.credentialUpdate(e,!1))!==void 0&&this.ctx.done(),await this.load()}async changePin(e){e.preventDefault();let i=e.target,n=new FormData(i),r=v(n,"current_pin"),s=v(n,"new_pin"),d={};if(r||(d.current_pin=this.t("field_required")),s.length<6?d.new_pin=this.t("pin_short"):s!==n.get("repeat_pin")&&(d.repeat_pin=this.t("pin_mismatch")),this.errors=d,!Object.keys(d).length){try{await f(this,"pin",()=>this.ctx.client.changePin(s,r),{quiet:!0})}catch(l){let p=l.translation_key??"",b=Ji[p]??N.errorField(l)??"current_pin";this.errors={[b]:this.ctx.i18n.error(l)};return}i.reset(),this.ctx.done("pin_changed"),await this.load()}}async saveNotify(e){e.preventDefault();let i=v(new FormData(e.target),"notify_service").trim();try{await f(this,"notify",()=>this.ctx.client.notifySet(i||null),{quiet:!0}),this.errors={},this.ctx.done()}catch(n){this.errors={notify_service:this.ctx.i18n.error(n)}}}field(e){let i=this.errors[e];return i?o`<span class="field-error" role="alert" data-error=${e}>${i}</span>`:u}render(){let e=this.profile,i=this.ctx.i18n;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let n=e.member;return n?o`
      ${n.pin_must_change?o`<div class="message error" data-pin="must-change">${this.t("pin_must_change")}</div>`:u}
      <div class="card">
        <h3>${n.name}</h3>
        <dl>
          <dt>${this.t("role")}</dt>
          <dd>${i.maybe(`role_${n.role}`)??n.role}</dd>
          <dt>${this.t("status")}</dt>
          <dd>${n.active?this.t("active"):this.t("inactive")}</dd>
          ${n.email?o`<dt>${this.t("email")}</dt><dd>${n.email}</dd>`:u}
        </dl>
      </div>
      <h2>${this.t("credentials")}</h2>
      ${Ke(i,n.credentials||[],{admin:!1,busy:r=>this.busyKeys.has(r),lost:r=>{this.reportLost(r.id,Ue(r,this.t("card")))}})}
      <h2>${this.t("authorizations")}</h2>
      ${this.authorizationsTable(e)} ${this.notifyForm()}
      <h2>${this.t("sessions")}</h2>
      ${e.sessions.length?o`<div class="table-wrap">
            <table>
              <tr>
                <th>${this.t("device")}</th>
                <th>${this.t("start")}</th>
                <th>${this.t("duration")}</th>
              </tr>
              ${e.sessions.map(r=>o`<tr>
                  <td>${this.deviceLabel(r.device_id)}</td>
                  <td>${i.when(r.start)}${F(i,r)}</td>
                  <td>${r.end?i.duration(r.duration):this.t("open_session")}</td>
                </tr>`)}
            </table>
          </div>`:o`<p class="muted">${this.t("none")}</p>`}
      ${this.pinForm(n.has_pin,n.pin_must_change)}
    `:o`<p class="muted">${this.t("not_linked")}</p>`}deviceLabel(e){for(let i of this.ctx.lab?.areas??[]){let n=i.devices.find(r=>r.device_id===e);if(n)return n.name}return e}authorizationsTable(e){if(!e.authorizations.length)return o`<p class="muted">${this.t("none")}</p>`;let i=this.ctx.i18n,n=new Map((this.lapses?.authorizations??[]).map(r=>[r.authorization_id,r]));return o`<div class="table-wrap">
      <table class="credentials">
        <tr>
          <th>${this.t("target")}</th>
          <th>${this.t("expires")}</th>
          <th>${this.t("hours")}</th>
          <th>${this.t("last_used")}</th>
          <th>${this.t("lapse_date")}</th>
        </tr>
        ${e.authorizations.map(r=>{let s=n.get(r.id);return o`<tr data-authorization=${r.id}>
            <td data-label=${this.t("target")}>${r.target}</td>
            <td data-label=${this.t("expires")}>
              ${r.expired?o`<span class="chip bad">${this.t("expired")}</span> `:u}
              ${r.expires?i.day(r.expires):this.t("never")}
            </td>
            <td data-label=${this.t("hours")}>${r.window_start?`${r.window_start}–${r.window_end}`:"—"}</td>
            <td data-label=${this.t("last_used")}>
              ${s?s.last_used?i.when(s.last_used):this.t("never_used"):"—"}
            </td>
            <td data-label=${this.t("lapse_date")}>${s?dt(i,s):this.t("lapse_never")}</td>
          </tr>`})}
      </table>
    </div>`}notifyForm(){let e=this.notify;if(!e)return u;let i=e.phones.length?e.phones.map(r=>lt(e,r)).join(", "):this.t("no_phones"),n=[...e.phones,...e.notify_service&&!e.phones.includes(e.notify_service)?[e.notify_service]:[]];return o`<h2>${this.t("notifications")}</h2>
      <form data-form="ops-notify" class="card" @submit=${r=>{this.saveNotify(r)}}>
        <label
          >${this.t("notify_phone")}<select name="notify_service">
            <option value="" ?selected=${!e.notify_service}>${this.t("notify_all_phones",{phones:i})}</option>
            ${n.map(r=>o`<option value=${r} ?selected=${r===e.notify_service}>${lt(e,r)}</option>`)}
          </select>${this.field("notify_service")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("notify")}>${this.t("save")}</button>
        </div>
      </form>`}pinForm(e,i){return e?o`<h2>${this.t("change_pin")}</h2>
      <form data-form="pin" class="card" autocomplete="off" novalidate @submit=${n=>{this.changePin(n)}}>
        <span class="muted">${this.t("pin_hint")}</span>
        <label
          >${this.t(i?"current_initial_pin":"current_pin")}<input
            type="password"
            name="current_pin"
            autocomplete="current-password"
            aria-invalid=${this.errors.current_pin?"true":"false"}
          />${this.field("current_pin")}</label
        >
        <label
          >${this.t("new_pin")}<input
            type="password"
            name="new_pin"
            autocomplete="new-password"
            aria-invalid=${this.errors.new_pin?"true":"false"}
          />${this.field("new_pin")}</label
        >
        <label
          >${this.t("repeat_pin")}<input
            type="password"
            name="repeat_pin"
            autocomplete="new-password"
            aria-invalid=${this.errors.repeat_pin?"true":"false"}
          />${this.field("repeat_pin")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("pin")}>${this.t("save")}</button>
        </div>
      </form>`:o`<h2>${this.t("change_pin")}</h2>
        <p class="muted" data-pin="none">${this.t("no_pin_yet")}</p>`}};m([h()],W.prototype,"profile",2),m([h()],W.prototype,"lapses",2),m([h()],W.prototype,"notify",2),m([h()],W.prototype,"errors",2),W=m([$("fluxilab-profile-view")],W);function dt(a,t){return t.lapse_date?o`${t.lapsed?o`<span class="chip bad">${a.t("lapsed")}</span> `:u}${a.day(t.lapse_date)}
    <span class="muted">(${a.maybe(`lapse_cause_${t.cause}`)??t.cause})</span>`:a.t("lapse_never")}var ve=class extends x{constructor(){super(...arguments);this.list=null;this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){let e=await f(this,"load",()=>this.ctx.client.lapsingList());e&&(this.list=e)}async renew(e){await f(this,`renew:${e.authorization_id}`,()=>this.ctx.client.lapsingRenew(e.authorization_id))!==void 0&&this.ctx.done("renewed"),await this.load()}render(){let e=this.list;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,n=s=>s.machine_type_name||s.machine_type_id||s.device_id||"—",r=[{key:"member",title:this.t("member"),sort:s=>s.member_name||s.member_id||"",render:s=>s.member_name||s.member_id},{key:"target",title:this.t("target"),sort:n,render:n},{key:"last_used",title:this.t("last_used"),sort:s=>String(s.last_used??""),render:s=>s.last_used?i.when(s.last_used):this.t("never_used")},{key:"lapse",title:this.t("lapse_date"),sort:s=>s.lapse_date??"9999",render:s=>dt(i,s)},{key:"actions",title:"",className:"actions",render:s=>o`<button
          class="primary"
          data-action="lapse-renew"
          data-auth=${s.authorization_id}
          ?disabled=${this.busyKeys.has(`renew:${s.authorization_id}`)}
          @click=${()=>{this.renew(s)}}
        >
          ${this.t("renew")}
        </button>`}];return o`<p class="muted">${this.t("lapsing_hint",{days:e.notice_days})}</p>
      <fluxilab-data-table
        name="lapsing"
        .i18n=${i}
        .rows=${e.authorizations}
        .columns=${r}
        sortKey="lapse"
        empty=${this.t("lapsing_none",{days:e.notice_days})}
        .rowKey=${s=>s.authorization_id}
        .searchText=${s=>`${s.member_name??""} ${s.member_id??""} ${n(s)}`}
      ></fluxilab-data-table>`}};m([h()],ve.prototype,"list",2),ve=m([$("fluxilab-lapsing-view")],ve);var ri=Ie(class extends ae{constructor(){super(...arguments),this.key=u}render(a,t){return this.key=a,t}update(a,[t,e]){return t!==this.key&&(De(a),this.key=t),e}});var le=class extends x{constructor(){super(...arguments);this.editType=null;this.formError="";this.busyKeys=new Set}async removeType(e){!await this.ctx.confirm({text:this.t("confirm_delete_type",{name:e.name}),action:this.t("delete"),danger:!0})||await f(this,`type-delete:${e.id}`,()=>this.ctx.client.machineTypeDelete(e.id))===void 0||(this.ctx.done(),await this.ctx.reloadAdmin())}async save(e){e.preventDefault();let i=e.target,n=new FormData(i),r=y=>n.get(y)===""||n.get(y)===null?null:Number(n.get(y)),s=v(n,"name").trim();if(!s){this.formError=this.t("field_required");return}let d=v(n,"supervised_hours_start")||null,l=v(n,"supervised_hours_end")||null,p={name:s,session_timeout:r("session_timeout")??900,grace_period:r("grace_period")??60,requires_authorization:n.has("requires_authorization"),maintenance_interval:r("maintenance_interval"),maintenance_message:v(n,"maintenance_message")||null,maintenance_description:v(n,"maintenance_description").trim()||null,maintenance_url:v(n,"maintenance_url").trim()||null,block_when_maintenance_due:n.has("block_when_maintenance_due"),require_pin:n.has("require_pin"),lapse_after_months:r("lapse_after_months")||null,offline_max_age:r("offline_max_age")??24,safety_limits:[],busy_channel:v(n,"busy_channel")||null,requires_supervisor:n.has("requires_supervisor"),supervisor_minutes:r("supervisor_minutes")||30,supervised_hours_start:d&&l?d:null,supervised_hours_end:d&&l?l:null,training_expiry_days:r("training_expiry_days")||null};if(n.get("offline_policy")&&(p.offline_policy=v(n,"offline_policy")),n.get("safety_channel")){let y={channel:v(n,"safety_channel")},w=r("safety_min"),I=r("safety_max");w!==null&&(y.min=w),I!==null&&(y.max=I),p.safety_limits=[y]}let b=r("busy_above"),c=r("busy_delay");b!==null&&(p.busy_above=b),c!==null&&(p.busy_delay=c);let _={};for(let y of["billing_hourly","billing_idle_hourly","billing_minimum"]){let w=v(n,y).trim(),I=w?Vt(w):null;if(w&&I===null){this.formError=this.t("error_amount");return}_[y]=I}p.billing_hourly_cents=_.billing_hourly??0,p.billing_idle_hourly_cents=_.billing_idle_hourly,p.billing_minimum_cents=_.billing_minimum??0,p.billing_round_minutes=r("billing_round_minutes")??1;let g=v(n,"maintenance_conditions").trim();try{p.maintenance_conditions=g?JSON.parse(g):[]}catch{this.formError=this.t("error_conditions_json");return}this.editType&&(p.machine_type_id=this.editType);try{await f(this,"type",()=>this.ctx.client.machineTypeSave(p),{quiet:!0})}catch(y){this.formError=this.ctx.i18n.error(y);return}this.formError="",this.editType=null,i.reset(),this.ctx.done("saved_type",{name:s}),await this.ctx.reloadAdmin()}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,n=e.machine_types.find(c=>c.id===this.editType)??{},r=(n.safety_limits??[])[0]??{},s=[...new Set(e.devices.flatMap(c=>c.telemetry.map(_=>_.key)))],d=(c,_,g="any")=>o`<label>${this.t(c)}<input type="number" name=${c} step=${g} min="0" value=${_??""} /></label>`,l=(c,_)=>o`<label class="check"><input type="checkbox" name=${c} ?checked=${!!_} /> ${this.t(c)}</label>`,p=(c,_)=>o`<label>${this.t(c)}<input type="time" name=${c} value=${_??""} /></label>`,b=(c,_)=>o`<select name=${c}>
      <option value="" ?selected=${!_}>${this.t("none")}</option>
      ${s.map(g=>o`<option value=${g} ?selected=${g===_}>${g}</option>`)}
    </select>`;return o`
      <div class="table-wrap">
        <table>
          <tr>
            <th>${this.t("name")}</th>
            <th>${this.t("requires_authorization")}</th>
            <th>${this.t("safety")}</th>
            <th>${this.t("maintenance_interval")}</th>
            <th></th>
          </tr>
          ${e.machine_types.map(c=>o`<tr data-type=${c.id}>
              <td data-label=${this.t("name")}>${c.name}</td>
              <td data-label=${this.t("requires_authorization")}>${c.requires_authorization?"✔":"✘"}</td>
              <td data-label=${this.t("safety")}>
                ${(c.safety_limits??[]).map(_=>`${_.channel} ${_.min!==void 0?`≥ ${_.min}`:""} ${_.max!==void 0?`≤ ${_.max}`:""}`).join(", ")||"—"}
              </td>
              <td data-label=${this.t("maintenance_interval")}>
                ${c.maintenance_interval?`${i.number(c.maintenance_interval)} h`:"—"}
              </td>
              <td class="actions">
                <button class="secondary" data-action="type-edit" data-type=${c.id} @click=${()=>{this.editType=c.id,this.formError=""}}>
                  ${this.t("edit")}
                </button>
                <button
                  class="danger"
                  data-action="type-delete"
                  data-type=${c.id}
                  ?disabled=${this.busyKeys.has(`type-delete:${c.id}`)}
                  @click=${()=>{this.removeType(c)}}
                >
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`)}
        </table>
      </div>
      <h2>${n.id?`${this.t("edit")}: ${n.name}`:this.t("new_type")}</h2>
      ${ri(this.editType??"",o`<form data-form="type" class="card" data-type=${n.id??""} novalidate @submit=${c=>{this.save(c)}}>
          <label>${this.t("name")}<input name="name" maxlength="100" value=${n.name??""} /></label>
          ${d("session_timeout",n.session_timeout??900,"1")} ${d("grace_period",n.grace_period??60,"1")}
          ${l("requires_authorization",n.requires_authorization??!0)}
          ${d("maintenance_interval",n.maintenance_interval)}
          <label
            >${this.t("maintenance_message")}<input
              name="maintenance_message"
              maxlength="32"
              value=${n.maintenance_message??""}
          /></label>
          <label
            >${this.t("maintenance_description")}<textarea
              name="maintenance_description"
              maxlength="500"
              rows="2"
              .value=${n.maintenance_description??""}
            ></textarea
            ></label>
          <label
            >${this.t("maintenance_url")}<input
              name="maintenance_url"
              type="url"
              maxlength="2048"
              placeholder="https://"
              value=${n.maintenance_url??""}
          /></label>
          ${l("block_when_maintenance_due",n.block_when_maintenance_due)}
          ${l("require_pin",n.require_pin)}
          ${d("lapse_after_months",n.lapse_after_months,"1")}
          <div class="actions">
            ${l("requires_supervisor",n.requires_supervisor)} ${d("supervisor_minutes",n.supervisor_minutes??30,"1")}
            ${p("supervised_hours_start",n.supervised_hours_start)} ${p("supervised_hours_end",n.supervised_hours_end)}
            ${d("training_expiry_days",n.training_expiry_days,"1")}
          </div>
          <label>${this.t("safety_channel")}${b("safety_channel",r.channel)}</label>
          <div class="actions">
            <label>${this.t("busy_channel")}${b("busy_channel",n.busy_channel)}</label>
            <label>${this.t("busy_above")}<input type="number" name="busy_above" step="any" value=${n.busy_above??""} /></label>
            ${d("busy_delay",n.busy_delay??30,"1")}
          </div>
          <div class="actions" data-group="rates">
            ${["billing_hourly","billing_idle_hourly","billing_minimum"].map(c=>o`<label
                  >${this.t(c)}<input
                    name=${c}
                    inputmode="decimal"
                    value=${ti(c==="billing_hourly"?n.billing_hourly_cents:c==="billing_idle_hourly"?n.billing_idle_hourly_cents:n.billing_minimum_cents)}
                /></label>`)}
            ${d("billing_round_minutes",n.billing_round_minutes??1,"1")}
          </div>
          <label
            >${this.t("maintenance_conditions")}<textarea
              name="maintenance_conditions"
              rows="3"
              placeholder='[{"kind": "channel_hours", "channel": "fan_running", "hours": 500}]'
              .value=${n.maintenance_conditions?.length?JSON.stringify(n.maintenance_conditions):""}
            ></textarea></label
          >
          <div class="actions">${d("safety_min",r.min)}${d("safety_max",r.max)}</div>
          <div class="actions">
            <label
              >${this.t("offline_policy")}<select name="offline_policy">
                <option value="" ?selected=${!n.offline_policy}>${this.t("offline_default")}</option>
                <option value="allow_mirrored" ?selected=${n.offline_policy==="allow_mirrored"}>
                  ${this.t("offline_allow_mirrored")}
                </option>
                <option value="deny" ?selected=${n.offline_policy==="deny"}>${this.t("offline_deny")}</option>
              </select></label
            >
            ${d("offline_max_age",n.offline_max_age??24)}
          </div>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${this.busyKeys.has("type")}>${this.t("save")}</button>
            ${n.id?o`<button class="secondary" type="button" data-action="type-new" @click=${()=>this.editType=null}>
                  ${this.t("cancel")}
                </button>`:u}
            ${this.formError?o`<span class="field-error" role="alert" data-error="form">${this.formError}</span>`:u}
          </div>
        </form>`)}
    `}};m([h()],le.prototype,"editType",2),m([h()],le.prototype,"formError",2),le=m([$("fluxilab-machine-types-view")],le);function Qi(a){if(!a)return null;try{let t=new URL(a);if((t.protocol==="http:"||t.protocol==="https:")&&t.hostname&&!t.username)return a}catch{return null}return null}function si(a,t){let e=t.find(i=>i.id===a.machine_type_id)??null;return{interval:e?.maintenance_interval??null,description:e?.maintenance_description||null,url:Qi(e?.maintenance_url),message:e?.maintenance_message||null,hoursToMaintenance:a.hours_to_maintenance,due:a.maintenance_due}}function ai(a){return a.member??a.member_id??"—"}function ye(a,t){return a==null?"—":`${t(a)} h`}var Xi=500,X=class extends x{constructor(){super(...arguments);this.device="";this.rows=null;this.next=null;this.busyKeys=new Set}connectedCallback(){super.connectedCallback();let e=this.ctx.admin?.devices[0]?.device_id;e&&!this.device&&(this.device=e,this.load())}async load(e=!1){if(!this.device)return;let i=this.device,n=await f(this,"log",()=>this.ctx.client.maintenanceLog(i,e?this.next:null));!n||i!==this.device||(this.rows=e?[...this.rows??[],...n.interventions]:n.interventions,this.next=n.next)}async record(e){e.preventDefault();let i=e.target,n=this.ctx.admin?.devices.find(l=>l.device_id===this.device);if(!n||!await this.ctx.confirm({text:this.t("confirm_maintenance",{name:n.name}),action:this.t("record_maintenance")}))return;let s=v(new FormData(i),"note").trim();await f(this,"record",()=>this.ctx.client.recordMaintenance(n.device_id,s||void 0))!==void 0&&(i.reset(),this.ctx.done("maintenance_recorded",{name:n.name}),await this.ctx.reloadAdmin(),await this.load())}async csv(){let e=this.device,i=await f(this,"csv",()=>this.ctx.client.maintenanceCsv(e));i!==void 0&&R(i,`fluxilab-maintenance-${e}.csv`,"text/csv")}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.ctx.i18n,n=d=>i.number(d),r=e.devices.find(d=>d.device_id===this.device),s=r?si(r,e.machine_types):null;return o`
      <div class="actions">
        <label
          >${this.t("device")}
          <select
            data-field="maintenance-device"
            @change=${d=>{this.device=d.target.value,this.rows=null,this.next=null,this.load()}}
          >
            ${e.devices.map(d=>o`<option value=${d.device_id} ?selected=${d.device_id===this.device}>${d.name}</option>`)}
          </select></label
        >
      </div>
      ${r&&s?o`<section class="card" data-plan=${r.device_id}>
              <h2>${this.t("maintenance_plan")}${r.machine_type?o` · ${r.machine_type}`:u}</h2>
              ${s.due?o`<p><span class="chip warn">${this.t("maintenance_due")}</span></p>`:u}
              <p>
                ${this.t("maintenance_interval")}: ${ye(s.interval,n)} ·
                ${this.t("hours_to_maintenance")}: ${ye(s.hoursToMaintenance,n)}
              </p>
              ${s.description?o`<p data-field="maintenance-description">${s.description}</p>`:u}
              ${s.url?o`<p>
                    <a href=${s.url} target="_blank" rel="noopener noreferrer" data-field="maintenance-url">${this.t("maintenance_instructions")}</a>
                  </p>`:u}
              ${!s.interval&&!s.description?o`<p class="muted">${this.t("maintenance_no_plan")}</p>`:u}
            </section>
            <form class="card" data-form="maintenance" @submit=${d=>{this.record(d)}}>
              <label>${this.t("maintenance_note")}<textarea name="note" maxlength=${Xi} rows="2"></textarea></label>
              <div class="actions">
                <button type="submit" data-action="maintenance-record" ?disabled=${this.busyKeys.has("record")}>
                  ${this.t("record_maintenance")}
                </button>
              </div>
            </form>
            <h2>${this.t("maintenance_interventions")}</h2>
            <div class="actions">
              <button class="secondary" type="button" data-action="maintenance-csv" ?disabled=${this.busyKeys.has("csv")} @click=${()=>{this.csv()}}>
                ${this.t("download_csv")}
              </button>
            </div>
            ${this.rows===null?o`<p class="muted">${this.t("loading")}</p>`:this.rows.length===0?o`<p class="muted">${this.t("maintenance_none_yet")}</p>`:o`<div class="table-wrap">
                    <table data-table="interventions">
                      <tr>
                        <th>${this.t("time")}</th>
                        <th>${this.t("member")}</th>
                        <th>${this.t("usage_hours")}</th>
                        <th>${this.t("maintenance_since_previous")}</th>
                        <th>${this.t("maintenance_note")}</th>
                      </tr>
                      ${this.rows.map(d=>o`<tr data-entry=${d.entry_id}>
                          <td data-label=${this.t("time")}>${i.when(d.ts)}${F(i,d)}</td>
                          <td data-label=${this.t("member")}>${ai(d)}</td>
                          <td data-label=${this.t("usage_hours")}>${ye(d.hours,n)}</td>
                          <td data-label=${this.t("maintenance_since_previous")}>${ye(d.since_maintenance,n)}</td>
                          <td data-label=${this.t("maintenance_note")}>${d.note??""}</td>
                        </tr>`)}
                    </table>
                  </div>`}
            ${this.next!==null?o`<button class="secondary" data-action="maintenance-more" ?disabled=${this.busyKeys.has("log")} @click=${()=>{this.load(!0)}}>
                  ${this.t("audit_more")}
                </button>`:u}`:o`<p class="muted">${this.t("no_devices")}</p>`}
    `}};m([h()],X.prototype,"device",2),m([h()],X.prototype,"rows",2),m([h()],X.prototype,"next",2),X=m([$("fluxilab-maintenance-view")],X);var Vi={card_in_use:"cards",card_duplicate:"cards",member_name_taken:"name",user_linked:"user_id",login_username_taken:"login_username",login_and_user:"login_username",login_unavailable:"form",login_not_deactivatable:"form",pin_too_short:"pin",pin_too_long:"pin"};function oi(a){let t=a?.translation_key;return t&&Vi[t]||N.errorField(a)}var li=1024*1024,H=class extends x{constructor(){super(...arguments);this.csvText="";this.fileName="";this.strict=!0;this.report=null;this.error="";this.busyKeys=new Set}async exportCsv(){let e=await f(this,"export",()=>this.ctx.client.exportMembers());e&&R(e.csv_text,"fluxilab-members.csv","text/csv")}async pick(e){let i=e.target.files?.[0];if(this.report=null,this.error="",!!i){if(i.size>li){this.error=this.t("import_too_large",{max:li});return}this.fileName=i.name,this.csvText=await i.text(),await this.run(!0)}}async run(e){try{let i=await f(this,e?"dry-run":"import",()=>this.ctx.client.importMembers(this.csvText,e,this.strict),{quiet:!0});if(!i)return;this.error="",this.report=i,i.applied&&(this.ctx.done("import_done",{...i.summary}),await this.ctx.reloadAdmin())}catch(i){this.report=null,this.error=this.ctx.i18n.error(i)}}detail(e){if(e.reason)return this.ctx.i18n.error(e.reason);let i=e.changes.map(n=>this.ctx.i18n.maybe(n)??n);for(let n of e.authorizations)i.push(`${n.target} (${this.action(n.action)})`);return i.join(", ")}action(e){return this.ctx.i18n.maybe(`import_action_${e}`)??e}canApply(e){let i=e.summary.create+e.summary.update;return!e.applied&&i>0&&!(this.strict&&e.summary.reject>0)}table(e){let i=e.rows.filter(n=>n.action!=="unchanged");return o`<p data-import-summary>${this.t("import_summary",{...e.summary})}</p>
      ${i.length?o`<div class="table-wrap">
            <table data-import-report>
              <thead>
                <tr>
                  <th>${this.t("import_line")}</th>
                  <th>${this.t("name")}</th>
                  <th>${this.t("import_action")}</th>
                  <th>${this.t("import_details")}</th>
                </tr>
              </thead>
              <tbody>
                ${i.map(n=>o`<tr data-line=${n.line} data-action=${n.action}>
                    <td>${n.line}</td>
                    <td>${n.name??"—"}</td>
                    <td>${this.action(n.action)}</td>
                    <td>${this.detail(n)}</td>
                  </tr>`)}
              </tbody>
            </table>
          </div>`:u}`}render(){let e=this.report,i=e?.applied?"import_applied":"import_dry_run";return o`<h2>${this.t("import_title")}</h2>
      <div class="card" data-form="member-import">
        <p class="muted">${this.t("import_help")}</p>
        <div class="actions">
          <button class="secondary" data-action="members-export" ?disabled=${this.busyKeys.has("export")} @click=${()=>{this.exportCsv()}}>
            ${this.t("download_csv")}
          </button>
        </div>
        <label>${this.t("import_file")}<input name="import_file" type="file" accept=".csv,text/csv" @change=${n=>{this.pick(n)}} /></label>
        <label class="inline"
          ><input
            name="import_strict"
            type="checkbox"
            .checked=${this.strict}
            @change=${n=>{this.strict=n.target.checked,this.csvText&&this.run(!0)}}
          />${this.t("import_strict")}</label
        >
        ${this.error?o`<div class="message error" role="alert" data-import-error>${this.error}</div>`:u}
        ${e?o`<h3>${this.t(i,{file:this.fileName})}</h3>
              ${this.table(e)}
              ${this.canApply(e)?o`<div class="actions">
                    <button class="primary" data-action="members-import" ?disabled=${this.busyKeys.has("import")} @click=${()=>{this.run(!1)}}>
                      ${this.t("import_apply")}
                    </button>
                  </div>`:u}`:u}
      </div>`}};m([h()],H.prototype,"csvText",2),m([h()],H.prototype,"fileName",2),m([h()],H.prototype,"strict",2),m([h()],H.prototype,"report",2),m([h()],H.prototype,"error",2),H=m([$("fluxilab-member-import")],H);var di=["user","staff","admin"],M=class extends x{constructor(){super(...arguments);this.editing=null;this.roleFilter="";this.statusFilter="";this.errors={};this.issued=null;this.newLogin=!1;this.busyKeys=new Set}roles(){return[...di,...(this.ctx.admin?.roles??[]).map(e=>e.id)]}roleName(e){return di.includes(e)?this.ctx.i18n.maybe(`role_${e}`)??e:this.ctx.admin?.roles.find(i=>i.id===e)?.name??e}manages(e){return e==="admin"||!!this.ctx.admin?.roles.find(i=>i.id===e)?.manage}async updateMember(e,i,n){return await f(this,n,()=>this.ctx.client.memberUpdate(e.id,i))===void 0?!1:(this.ctx.done("saved_member",{name:e.name}),await this.ctx.reloadAdmin(),!0)}async changeRole(e,i){let n=i.value;if(this.manages(n)&&!await this.ctx.confirm({text:this.t("confirm_role_admin",{name:e.name}),action:this.t("make_admin")})){i.value=e.role;return}await this.updateMember(e,{role:n},`role:${e.id}`)||(i.value=e.role)}async removeMember(e){!await this.ctx.confirm({text:this.t("confirm_delete",{name:e.name}),action:this.t("delete"),danger:!0})||await f(this,`delete:${e.id}`,()=>this.ctx.client.memberDelete(e.id))===void 0||(this.ctx.done("deleted_member",{name:e.name}),await this.ctx.reloadAdmin())}async create(e){e.preventDefault();let i=e.target,n=new FormData(i),r=v(n,"name").trim(),s=v(n,"pin"),d={};r||(d.name=this.t("field_required")),s&&s.length<6&&(d.pin=this.t("pin_short"));let l=this.newLogin?v(n,"login_username").trim():"",p=this.newLogin?v(n,"login_password"):"";if(this.newLogin&&!l&&(d.login_username=this.t("field_required")),this.newLogin&&!p&&(d.login_password=this.t("field_required")),this.errors=d,Object.keys(d).length)return;let b=()=>this.ctx.confirm({text:this.t("confirm_same_name",{name:r}),action:this.t("create")}),c=this.ctx.admin?.members.find(g=>g.name.toLocaleLowerCase()===r.toLocaleLowerCase());if(c&&!await b())return;let _={name:r,role:v(n,"role")};c&&(_.allow_same_name=!0),n.get("email")&&(_.email=v(n,"email")),this.newLogin?(_.login_username=l,_.login_password=p):n.get("user_id")&&(_.user_id=v(n,"user_id")),_.deactivate_login=n.get("deactivate_login")==="on",n.get("card")&&(_.cards=[v(n,"card")]),s&&(_.pin=s);try{let g;try{g=await f(this,"create",()=>this.ctx.client.memberCreate(_),{quiet:!0})}catch(y){if(y?.translation_key!=="member_name_taken"||!await b())throw y;_.allow_same_name=!0,g=await f(this,"create",()=>this.ctx.client.memberCreate(_),{quiet:!0})}i.reset(),this.newLogin=!1,this.ctx.done("added_member",{name:r}),await this.ctx.reloadAdmin(),g&&this.querySelector("fluxilab-data-table")?.showRow(g.member_id)}catch(g){let y=oi(g)??"form";this.errors={[y]:this.ctx.i18n.error(g)}}}async credential(e,i){await f(this,e,i)!==void 0&&this.ctx.done(),await this.ctx.reloadAdmin()}async addCard(e,i){e.preventDefault();let n=e.target,r=new FormData(n),s=v(r,"secret").trim();if(!s){this.errors={secret:this.t("field_required")};return}try{await f(this,"credential-add",()=>this.ctx.client.credentialAdd(i.id,s,v(r,"label")||void 0),{quiet:!0}),this.errors={},n.reset(),this.ctx.done(),await this.ctx.reloadAdmin()}catch(d){this.errors={secret:this.ctx.i18n.error(d)}}}async resetPin(e){if(!await this.ctx.confirm({text:this.t("confirm_reset_pin",{name:e.name}),action:this.t("reset_pin"),danger:!0}))return;let n=await f(this,`reset-pin:${e.id}`,()=>this.ctx.client.resetPin(e.id));n&&(this.issued={member:e.id,text:this.t("pin_issued",{name:e.name,pin:n.pin})},this.ctx.done()),await this.ctx.reloadAdmin()}editor(e){if(this.editing!==e.id)return u;let i=this.busyKeys;return o`<tr class="editor-row" data-editor=${e.id}>
      <td colspan="6">
        <h3>${this.t("credentials_of",{name:e.name})}</h3>
        ${this.issued?.member===e.id?o`<div class="message success" data-issued=${e.id}>${this.issued.text}</div>`:u}
        ${Ke(this.ctx.i18n,e.credentials||[],{admin:!0,busy:n=>i.has(`credential:${n}`),toggle:n=>{this.credential(`credential:${n.id}`,()=>this.ctx.client.credentialUpdate(n.id,!n.active,e.id))},remove:n=>{this.ctx.confirm({text:this.t("confirm_delete",{name:Ue(n,this.t("card"))}),action:this.t("delete"),danger:!0}).then(r=>r?this.credential(`credential:${n.id}`,()=>this.ctx.client.credentialRemove(e.id,n.id)):void 0)}})}
        <form
          data-form="credential-add"
          data-member=${e.id}
          class="inline"
          autocomplete="off"
          novalidate
          @submit=${n=>{this.addCard(n,e)}}
        >
          <label
            >${this.t("card")}<input name="secret" type="password" maxlength="64" autocomplete="off" />${this.error("secret")}</label
          >
          <label>${this.t("credential_label")}<input name="label" maxlength="64" /></label>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${i.has("credential-add")}>
              ${this.t("add_credential")}
            </button>
            <button
              class="secondary"
              type="button"
              data-action="credential-reset-pin"
              data-member=${e.id}
              ?disabled=${i.has(`reset-pin:${e.id}`)}
              @click=${()=>{this.resetPin(e)}}
            >
              ${this.t("reset_pin")}
            </button>
            <button
              class="secondary"
              type="button"
              data-action="credentials-close"
              @click=${()=>{this.editing=null,this.issued=null}}
            >
              ${this.t("close")}
            </button>
          </div>
        </form>
      </td>
    </tr>`}error(e){let i=this.errors[e];return i?o`<span class="field-error" role="alert" data-error=${e}>${i}</span>`:u}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=e.users,n=e.members.filter(s=>(!this.roleFilter||s.role===this.roleFilter)&&(!this.statusFilter||String(s.active)===this.statusFilter)),r=[{key:"name",title:this.t("name"),sort:s=>s.name,render:s=>o`${s.name}<div class="muted">${s.email||""}</div>`},{key:"role",title:this.t("role"),sort:s=>this.roles().indexOf(s.role),render:s=>o`<select
          data-action="member-role"
          data-member=${s.id}
          aria-label=${this.t("role")}
          @change=${d=>{this.changeRole(s,d.target)}}
        >
          ${this.roles().map(d=>o`<option value=${d} ?selected=${d===s.role}>${this.roleName(d)}</option>`)}
        </select>`},{key:"user",title:this.t("linked_user"),sort:s=>i.find(d=>d.id===s.user_id)?.name??"",render:s=>o`<select
          data-action="member-user"
          data-member=${s.id}
          aria-label=${this.t("linked_user")}
          @change=${d=>{this.updateMember(s,{user_id:d.target.value||null},`user:${s.id}`)}}
        >
          <option value="" ?selected=${!s.user_id}>${this.t("no_user")}</option>
          ${i.map(d=>o`<option value=${d.id} ?selected=${d.id===s.user_id}>${d.name}</option>`)}
        </select>${s.user_id?o`<label class="inline-label"
              ><input
                type="checkbox"
                data-action="member-deactivate-login"
                data-member=${s.id}
                .checked=${!!s.deactivate_login}
                ?disabled=${this.busyKeys.has(`login:${s.id}`)}
                title=${this.t("deactivate_login")}
                @change=${d=>{let l=d.target;this.updateMember(s,{deactivate_login:l.checked},`login:${s.id}`).then(p=>{p||(l.checked=!!s.deactivate_login)})}}
              />${this.t("deactivate_login_short")}</label
            >`:u}`},{key:"cards",title:this.t("cards"),sort:s=>s.cards.length,render:s=>o`${s.cards.join(", ")||"—"}
          <button
            class="secondary"
            data-action="credentials-edit"
            data-member=${s.id}
            aria-expanded=${this.editing===s.id}
            @click=${()=>{this.editing=this.editing===s.id?null:s.id,this.issued=null,this.errors={}}}
          >
            ${this.t("edit")}
          </button>`},{key:"pin",title:"PIN",sort:s=>Number(s.has_pin),render:s=>s.has_pin?this.t("has_pin"):this.t("no_pin")},{key:"actions",title:"",className:"actions",render:s=>o`<button
            class="secondary"
            data-action="member-supervise"
            data-member=${s.id}
            data-supervise=${String(!s.supervise)}
            ?disabled=${this.busyKeys.has(`supervise:${s.id}`)}
            @click=${()=>{this.updateMember(s,{supervise:!s.supervise},`supervise:${s.id}`)}}
          >
            ${this.t(s.supervise?"remove_supervisor":"make_supervisor")}
          </button>
          <button
            class="secondary"
            data-action="member-active"
            data-member=${s.id}
            data-active=${String(!s.active)}
            ?disabled=${this.busyKeys.has(`active:${s.id}`)}
            @click=${()=>{this.updateMember(s,{active:!s.active},`active:${s.id}`)}}
          >
            ${s.active?this.t("deactivate"):this.t("activate")}
          </button>
          <button
            class="danger"
            data-action="member-delete"
            data-member=${s.id}
            ?disabled=${this.busyKeys.has(`delete:${s.id}`)}
            @click=${()=>{this.removeMember(s)}}
          >
            ${this.t("delete")}
          </button>`}];return o`
      <fluxilab-data-table
        name="members"
        .i18n=${this.ctx.i18n}
        .rows=${n}
        .columns=${r}
        sortKey="name"
        .rowKey=${s=>s.id}
        .searchText=${s=>`${s.name} ${s.email??""} ${s.id} ${s.cards.join(" ")}`}
        .expanded=${s=>this.editor(s)}
        .filters=${o`<select
            name="role_filter"
            aria-label=${this.t("role")}
            @change=${s=>this.roleFilter=s.target.value}
          >
            <option value="">${this.t("all_roles")}</option>
            ${this.roles().map(s=>o`<option value=${s}>${this.roleName(s)}</option>`)}
          </select>
          <select
            name="status_filter"
            aria-label=${this.t("status")}
            @change=${s=>this.statusFilter=s.target.value}
          >
            <option value="">${this.t("all_statuses")}</option>
            <option value="true">${this.t("active")}</option>
            <option value="false">${this.t("inactive")}</option>
          </select>`}
      ></fluxilab-data-table>
      <h2>${this.t("create_member")}</h2>
      <form data-form="member" class="card" autocomplete="off" novalidate @submit=${s=>{this.create(s)}}>
        <label>${this.t("name")}<input name="name" maxlength="100" />${this.error("name")}</label>
        <label>${this.t("email")}<input name="email" type="email" />${this.error("email")}</label>
        <label
          >${this.t("role")}<select name="role">
            ${this.roles().map(s=>o`<option value=${s} ?selected=${s==="user"}>${this.roleName(s)}</option>`)}
          </select></label
        >
        <label class="inline-label"
          ><input
            type="checkbox"
            name="create_login"
            data-action="member-create-login"
            .checked=${this.newLogin}
            @change=${s=>this.newLogin=s.target.checked}
          />${this.t("create_login")}</label
        >
        ${this.newLogin?o`<label
                >${this.t("login_username")}<input
                  name="login_username"
                  maxlength="64"
                  autocomplete="off"
                  autocapitalize="none"
                />${this.error("login_username")}</label
              >
              <label
                >${this.t("login_password")}<input
                  name="login_password"
                  type="password"
                  autocomplete="new-password"
                />${this.error("login_password")}</label
              >
              <p class="muted">${this.t("login_hint")}</p>`:o`<label
              >${this.t("linked_user")}<select name="user_id">
                <option value="">${this.t("no_user")}</option>
                ${i.map(s=>o`<option value=${s.id}>${s.name}</option>`)}
              </select>${this.error("user_id")}</label
            >`}
        <label class="inline-label"
          ><input type="checkbox" name="deactivate_login" .checked=${this.newLogin} />${this.t("deactivate_login")}</label
        >
        <label>${this.t("card")}<input name="card" maxlength="64" />${this.error("cards")}</label>
        <label
          >${this.t("initial_pin")}<input name="pin" type="password" autocomplete="new-password" />${this.error("pin")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("create")}>${this.t("create")}</button>
          ${this.error("form")}
        </div>
      </form>
      <fluxilab-member-import .ctx=${this.ctx}></fluxilab-member-import>
    `}};m([h()],M.prototype,"editing",2),m([h()],M.prototype,"roleFilter",2),m([h()],M.prototype,"statusFilter",2),m([h()],M.prototype,"errors",2),m([h()],M.prototype,"issued",2),m([h()],M.prototype,"newLogin",2),M=m([$("fluxilab-members-view")],M);var Fe=["authorize_all","maintenance","supervisor","manage","book_for_others"],ci={admin:{authorize_all:!0,maintenance:!0,supervisor:!0,manage:!0,book_for_others:!0},staff:{authorize_all:!1,maintenance:!0,supervisor:!0,manage:!1,book_for_others:!0},user:{authorize_all:!1,maintenance:!1,supervisor:!1,manage:!1,book_for_others:!1}},$e=class extends x{constructor(){super(...arguments);this.error="";this.busyKeys=new Set}roles(){return this.ctx.admin?.roles??[]}async create(e){e.preventDefault();let i=e.target,n=new FormData(i),r=v(n,"name").trim();if(!r){this.error=this.t("field_required");return}this.error="";let s=Object.fromEntries(Fe.map(l=>[l,n.get(l)==="on"])),d=await f(this,"create",()=>this.ctx.client.roleCreate({name:r,...s}));d!==void 0&&(i.reset(),this.ctx.done("role_saved",{name:d.name}),await this.ctx.reloadAdmin())}async toggle(e,i,n){if(await f(this,`flag:${e.id}`,()=>this.ctx.client.roleUpdate(e.id,{[i]:n.checked}))===void 0){n.checked=e[i];return}this.ctx.done("role_saved",{name:e.name}),await this.ctx.reloadAdmin()}async removeRole(e){await this.ctx.confirm({text:this.t("confirm_delete_role",{name:e.name}),action:this.t("delete"),danger:!0})&&await f(this,`delete:${e.id}`,()=>this.ctx.client.roleDelete(e.id))!==void 0&&(this.ctx.done(),await this.ctx.reloadAdmin())}flagCells(e,i){return Fe.map(n=>o`<td data-label=${this.t(`role_flag_${n}`)}>
        <input
          type="checkbox"
          data-flag=${n}
          aria-label=${this.t(`role_flag_${n}`)}
          .checked=${e[n]}
          ?disabled=${!i||this.busyKeys.has(`flag:${i.id}`)}
          @change=${r=>i&&void this.toggle(i,n,r.target)}
        />
      </td>`)}render(){return this.ctx.admin?o`<p class="muted">${this.t("roles_hint")}</p>
      <div class="table-wrap">
        <table data-table="roles">
          <tr>
            <th>${this.t("name")}</th>
            ${Fe.map(e=>o`<th>${this.t(`role_flag_${e}`)}</th>`)}
            <th></th>
          </tr>
          ${Object.keys(ci).map(e=>o`<tr data-role=${e} class="muted">
              <td data-label=${this.t("name")}>${this.t(`role_${e}`)} <span class="chip">${this.t("role_built_in")}</span></td>
              ${this.flagCells(ci[e])}
              <td></td>
            </tr>`)}
          ${this.roles().map(e=>o`<tr data-role=${e.id}>
              <td data-label=${this.t("name")}>${e.name}</td>
              ${this.flagCells(e,e)}
              <td class="actions">
                <button class="danger" data-action="role-delete" ?disabled=${this.busyKeys.has(`delete:${e.id}`)} @click=${()=>{this.removeRole(e)}}>
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`)}
        </table>
      </div>
      <form data-form="role" class="card" novalidate @submit=${e=>{this.create(e)}}>
        <h2>${this.t("new_role")}</h2>
        <label>${this.t("name")}<input name="name" maxlength="100" required /></label>
        ${this.error?o`<span class="field-error" role="alert" data-error="name">${this.error}</span>`:""}
        ${Fe.map(e=>o`<label class="check"><input type="checkbox" name=${e} /> ${this.t(`role_flag_${e}`)}</label>`)}
        <div class="actions">
          <button class="primary" type="submit" data-action="role-create" ?disabled=${this.busyKeys.has("create")}>${this.t("new_role")}</button>
        </div>
      </form>`:o`<p class="muted">${this.t("loading")}</p>`}};m([h()],$e.prototype,"error",2),$e=m([$("fluxilab-roles-view")],$e);var V=class extends x{constructor(){super(...arguments);this.ops=null;this.exportMember="";this.errors={};this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),f(this,"load",()=>this.ctx.client.notifySettings()).then(e=>{e&&(this.ops=e)})}async saveOps(e){e.preventDefault();let i=new FormData(e.target),n=v(i,"admin_notify_services").split(",").map(r=>r.trim()).filter(Boolean);try{let r=await f(this,"ops",()=>this.ctx.client.notifySettings({admin_notify_services:n,lapse_notice_days:Number(i.get("lapse_notice_days")),interest_expiry_hours:Number(i.get("interest_expiry_hours"))}),{quiet:!0});r&&(this.ops=r),this.errors={},this.ctx.done()}catch(r){this.errors={ops:this.ctx.i18n.error(r)}}}async saveRetention(e){e.preventDefault();let i=new FormData(e.target);try{let n=await f(this,"retention",()=>this.ctx.client.retention({usage_retention_days:Number(i.get("usage_retention_days")),unknown_card_retention_days:Number(i.get("unknown_card_retention_days")),show_member_names:i.has("show_member_names")}),{quiet:!0});this.errors={},n&&this.ctx.done("purged",{count:n.anonymized,cards:n.unknown_cards_deleted}),await this.ctx.reloadAdmin()}catch(n){this.errors={retention:this.ctx.i18n.error(n)}}}async export(){if(!this.exportMember){this.errors={export:this.t("pick_member")};return}let e=this.exportMember,i=await f(this,"export",()=>this.ctx.client.memberExport(e));i&&(this.errors={},R(JSON.stringify(i,null,2),`fluxilab-${e}.json`,"application/json"))}error(e){let i=this.errors[e];return i?o`<span class="field-error" role="alert" data-error=${e}>${i}</span>`:u}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=e.settings,n=this.ops;return o`
      ${n?o`<h2>${this.t("notifications")}</h2>
            <form data-form="ops-settings" class="card" @submit=${r=>{this.saveOps(r)}}>
              <label
                >${this.t("admin_notify_services")}<input
                  name="admin_notify_services"
                  value=${(n.admin_notify_services||[]).join(", ")}
              /></label>
              <label
                >${this.t("lapse_notice_days")}<input
                  type="number"
                  min="1"
                  max="365"
                  step="1"
                  name="lapse_notice_days"
                  required
                  value=${n.lapse_notice_days}
              /></label>
              <label
                >${this.t("interest_expiry_hours")}<input
                  type="number"
                  min="1"
                  max="168"
                  step="1"
                  name="interest_expiry_hours"
                  required
                  value=${n.interest_expiry_hours}
              /></label>
              <div class="actions">
                <button class="primary" type="submit" ?disabled=${this.busyKeys.has("ops")}>${this.t("save")}</button>
                ${this.error("ops")}
              </div>
            </form>`:u}
      <h2>${this.t("retention")}</h2>
      <form data-form="retention" class="card" @submit=${r=>{this.saveRetention(r)}}>
        <label
          >${this.t("usage_retention_days")}<input
            type="number"
            min="1"
            max="36500"
            step="1"
            name="usage_retention_days"
            required
            value=${i.usage_retention_days}
        /></label>
        <label
          >${this.t("unknown_card_retention_days")}<input
            type="number"
            min="1"
            max="36500"
            step="1"
            name="unknown_card_retention_days"
            required
            value=${i.unknown_card_retention_days}
        /></label>
        <label class="check"
          ><input type="checkbox" name="show_member_names" ?checked=${!!i.show_member_names} />
          ${this.t("show_member_names")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("retention")}>${this.t("apply_retention")}</button>
          ${this.error("retention")}
        </div>
      </form>
      <h2>${this.t("gdpr_export")}</h2>
      <div class="inline" data-form="export">
        <fluxilab-picker
          name="member_id"
          .i18n=${this.ctx.i18n}
          label=${this.t("member")}
          .items=${e.members.map(r=>({id:r.id,label:r.name,sub:r.email??void 0}))}
          .value=${this.exportMember?[this.exportMember]:[]}
          error=${this.errors.export??""}
          @change=${r=>this.exportMember=r.target.value[0]??""}
        ></fluxilab-picker>
        <div class="actions">
          <button class="primary" ?disabled=${this.busyKeys.has("export")} @click=${()=>{this.export()}}>
            ${this.t("export")}
          </button>
        </div>
      </div>
    `}};m([h()],V.prototype,"ops",2),m([h()],V.prototype,"exportMember",2),m([h()],V.prototype,"errors",2),V=m([$("fluxilab-settings-view")],V);var ee=class extends x{constructor(){super(...arguments);this.picked={};this.errors={};this.names={};this.busyKeys=new Set}async assign(e){let i=this.picked[e];if(!i){this.errors={[e]:this.t("pick_member")};return}try{await f(this,`assign:${e}`,()=>this.ctx.client.assignCard(i,e),{quiet:!0})}catch(n){this.errors={[e]:this.ctx.i18n.error(n)};return}this.errors={},this.ctx.done("assigned_card",{name:E(this.ctx.admin,i)}),await this.ctx.reloadAdmin()}async newMember(e){let i=(this.names[e]??"").trim();if(!i){this.errors={[`new:${e}`]:this.t("field_required")};return}let n=()=>this.ctx.confirm({text:this.t("confirm_same_name",{name:i}),action:this.t("create")}),r=!1;if(this.ctx.admin?.members.some(d=>d.name.toLocaleLowerCase()===i.toLocaleLowerCase())){if(!await n())return;r=!0}let s=()=>f(this,`new:${e}`,()=>this.ctx.client.memberFromCard(e,i,r),{quiet:!0});try{try{await s()}catch(d){if(r||d?.translation_key!=="member_name_taken"||!await n())throw d;r=!0,await s()}}catch(d){this.errors={[`new:${e}`]:this.ctx.i18n.error(d)};return}this.errors={},this.names={...this.names,[e]:""},this.ctx.done("added_member",{name:i}),await this.ctx.reloadAdmin()}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=e.members.map(r=>({id:r.id,label:r.name,sub:r.email??void 0})),n=[{key:"card",title:this.t("card"),sort:r=>r.card,render:r=>r.card},{key:"device",title:this.t("seen_at"),sort:r=>T(e,r.device_id),render:r=>T(e,r.device_id)},{key:"ts",title:this.t("seen"),sort:r=>r.ts,render:r=>this.ctx.i18n.when(r.ts)},{key:"assign",title:this.t("assign_to"),render:r=>o`<div class="inline" data-form="assign" data-card=${r.card}>
          <fluxilab-picker
            name="member_id"
            .i18n=${this.ctx.i18n}
            .items=${i}
            .value=${this.picked[r.card]?[this.picked[r.card]]:[]}
            error=${this.errors[r.card]??""}
            @change=${s=>this.picked={...this.picked,[r.card]:s.target.value[0]??""}}
          ></fluxilab-picker>
          <button class="primary" ?disabled=${this.busyKeys.has(`assign:${r.card}`)} @click=${()=>{this.assign(r.card)}}>
            ${this.t("assign")}
          </button>
        </div>`},{key:"new_member",title:this.t("create_member_from_card"),render:r=>o`<div class="inline" data-form="member-from-card" data-card=${r.card}>
          <input
            name="new_member_name"
            maxlength="100"
            aria-label=${this.t("new_member_name")}
            placeholder=${this.t("new_member_name")}
            .value=${this.names[r.card]??""}
            @input=${s=>this.names={...this.names,[r.card]:s.target.value}}
          />
          <button class="secondary" ?disabled=${this.busyKeys.has(`new:${r.card}`)} @click=${()=>{this.newMember(r.card)}}>
            ${this.t("create")}
          </button>
          ${this.errors[`new:${r.card}`]?o`<span class="field-error" role="alert" data-error="new_member_name">${this.errors[`new:${r.card}`]}</span>`:u}
        </div>`}];return o`<fluxilab-data-table
      name="unknown_cards"
      .i18n=${this.ctx.i18n}
      .rows=${e.unknown_cards}
      .columns=${n}
      sortKey="ts"
      sortDescending
      .rowKey=${r=>r.card}
      .searchText=${r=>`${r.card} ${r.device_id} ${T(e,r.device_id)}`}
    ></fluxilab-data-table>`}};m([h()],ee.prototype,"picked",2),m([h()],ee.prototype,"errors",2),m([h()],ee.prototype,"names",2),ee=m([$("fluxilab-unknown-cards-view")],ee);var ct=["members","roles","authorizations","machine_types","devices","maintenance","unknown_cards","history","billing","audit","lapsing","settings"],xe=class extends x{constructor(){super(...arguments);this.sub="members"}updated(){this.querySelector('nav.sub button[aria-selected="true"]')?.scrollIntoView({block:"nearest",inline:"center"})}body(){let e=this.ctx;switch(this.sub){case"roles":return o`<fluxilab-roles-view .ctx=${e}></fluxilab-roles-view>`;case"authorizations":return o`<fluxilab-authorizations-view .ctx=${e}></fluxilab-authorizations-view>`;case"machine_types":return o`<fluxilab-machine-types-view .ctx=${e}></fluxilab-machine-types-view>`;case"devices":return o`<fluxilab-devices-view .ctx=${e}></fluxilab-devices-view>`;case"maintenance":return o`<fluxilab-maintenance-view .ctx=${e}></fluxilab-maintenance-view>`;case"unknown_cards":return o`<fluxilab-unknown-cards-view .ctx=${e}></fluxilab-unknown-cards-view>`;case"history":return o`<fluxilab-history-view .ctx=${e}></fluxilab-history-view>`;case"billing":return o`<fluxilab-billing-view .ctx=${e}></fluxilab-billing-view>`;case"audit":return o`<fluxilab-audit-view .ctx=${e}></fluxilab-audit-view>`;case"lapsing":return o`<fluxilab-lapsing-view .ctx=${e}></fluxilab-lapsing-view>`;case"settings":return o`<fluxilab-settings-view .ctx=${e}></fluxilab-settings-view>`;default:return o`<fluxilab-members-view .ctx=${e}></fluxilab-members-view>`}}render(){return o`<nav class="sub tabs" role="tablist">
        ${ct.map(e=>o`<button
            role="tab"
            data-action="admin-tab"
            data-tab=${e}
            aria-selected=${String(this.sub===e)}
            @click=${()=>this.ctx.navigate(`admin/${e}`)}
          >
            ${this.t(e)}
          </button>`)}
      </nav>
      ${this.body()}`}};m([k()],xe.prototype,"sub",2),xe=m([$("fluxilab-admin-view")],xe);function en(a){let t=[];for(let e of a??[]){let i=Number(e.s),n=e.lu??e.lc;e.s===""||!Number.isFinite(i)||typeof n!="number"||t.push([n,i])}return t}var Be=class{constructor(t){this.changed=t;this.series=new Map;this.loading=new Set;this.loaded=new Set}get(t){return t&&this.series.get(t)||[]}async load(t,e,i=Date.now()/1e3){let n=[...new Set(e)].filter(r=>!!r&&!this.loaded.has(r)&&!this.loading.has(r));if(n.length){n.forEach(r=>this.loading.add(r));try{let r=await t.recorded(n,new Date((i-3600)*1e3));for(let s of n){let d=this.series.get(s)??[],l=en(r[s]),p=l.length?l[l.length-1][0]:-1/0;this.series.set(s,[...l,...d.filter(([b])=>b>p)])}}catch{for(let r of n)this.series.has(r)||this.series.set(r,[])}finally{n.forEach(r=>this.loaded.add(r)),n.forEach(r=>this.loading.delete(r)),this.changed()}}}push(t,e,i=Date.now()/1e3){if(!t||typeof e!="number"||!Number.isFinite(e))return;let n=this.series.get(t)??[],r=n[n.length-1];if(!(r&&r[1]===e&&i-r[0]<60)){for(n.push([i,e]);n.length>1&&n[0][0]<i-3600;)n.shift();this.series.set(t,n)}}};function mi(a,t,e,i=Date.now()/1e3){if(!a.length)return"";let n=i-3600,r=a.map(([,_])=>_),s=Math.min(...r),d=Math.max(...r),l=d-s||1,p=_=>(Math.max(_,n)-n)/3600*t,b=_=>d===s?e/2:e-1-(_-s)/l*(e-2),c=`M${p(a[0][0]).toFixed(1)},${b(a[0][1]).toFixed(1)}`;for(let _=1;_<a.length;_++)c+=`H${p(a[_][0]).toFixed(1)}V${b(a[_][1]).toFixed(1)}`;return`${c}H${t}`}var ui=120,pi=28,te=class extends A{constructor(){super(...arguments);this.points=[];this.label=""}render(){let e=mi(this.points,ui,pi);return o`<svg
      viewBox="0 0 ${ui} ${pi}"
      preserveAspectRatio="none"
      role="img"
      aria-label=${this.label}
      data-points=${this.points.length}
    >
      ${e?Pt`<path d=${e}></path>`:null}
    </svg>`}};te.styles=ce`
    :host {
      display: inline-block;
      width: 100%;
      max-width: 160px;
      height: 28px;
      color: var(--fluxilab-spark-color, var(--primary-color, #03a9f4));
    }
    svg {
      width: 100%;
      height: 100%;
      display: block;
    }
    path {
      fill: none;
      stroke: currentColor;
      stroke-width: 1.5;
      vector-effect: non-scaling-stroke;
    }
  `,m([k({attribute:!1})],te.prototype,"points",2),m([k()],te.prototype,"label",2),te=m([$("fluxilab-sparkline")],te);function hi(a,t){return(a??[]).find(e=>e.channel===t)}function _i(a,t){return a===void 0||typeof t!="number"?!1:a.min!==void 0&&t<a.min||a.max!==void 0&&t>a.max}function bi(a,t){return`(${[t.min!==void 0?`≥ ${a.number(t.min)}`:"",t.max!==void 0?`≤ ${a.number(t.max)}`:""].filter(Boolean).join(" ")})`}var tn=6,ie=class extends x{constructor(){super(...arguments);this.interest=[];this.query="";this.blocked=null;this.busyKeys=new Set;this.interestLoaded=!1;this.series=new Be(()=>this.requestUpdate())}connectedCallback(){super.connectedCallback(),this.loadInterest(),this.follow()}follow(){let e=(this.ctx.lab?.areas??[]).flatMap(i=>i.devices.flatMap(n=>n.telemetry));for(let i of e)this.series.push(i.entity_id,i.value);this.series.load(this.ctx.client,e.map(i=>i.entity_id))}disconnectedCallback(){super.disconnectedCallback(),clearTimeout(this.timer)}labUpdated(){this.follow(),!(this.interestLoaded&&!this.interest.length)&&(clearTimeout(this.timer),this.timer=window.setTimeout(()=>{this.loadInterest()},300))}async loadInterest(){try{this.interest=(await this.ctx.client.interestList()).subscriptions}catch{this.interest=[]}this.interestLoaded=!0}async openDevice(e){await f(this,`open:${e}`,async()=>{let{url:i}=await this.ctx.client.open(e),n=new URL(i);if(n.protocol!=="http:"&&n.protocol!=="https:")throw new se("open_refused");this.blocked=null;let r=window.open(n.href,"_blank");r?r.opener=null:this.blocked={deviceId:e,url:n.href}})}async wait(e,i){await f(this,`interest:${e}`,()=>this.ctx.client.interest(e,i)),await this.loadInterest()}render(){let e=this.ctx.lab;return e?o`
      ${!e.member&&!e.manager?o`<p class="muted">${this.t("not_linked")}</p>`:u}
      ${e.areas.length?this.areas():o`<p class="muted">${this.t("no_devices")}</p>`}
    `:o`<p class="muted">${this.t("loading")}</p>`}areas(){let e=this.ctx.lab,i=e?.areas.reduce((b,c)=>b+c.devices.length,0)??0,n=this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean),r=new Intl.Collator(this.ctx.i18n.language,{numeric:!0,sensitivity:"base"}),s=b=>{let c=`${b.name} ${b.device_id} ${b.machine_type??""}`.toLocaleLowerCase();return n.every(_=>c.includes(_))},d=(b,c)=>r.compare(b.name,c.name),l=[];for(let b of e?.areas??[]){let c=b.devices.filter(s).sort(d);if(b.area){l.push({title:b.area,devices:c});continue}let _=[...new Set(c.map(g=>g.machine_type??""))].sort((g,y)=>g&&y?r.compare(g,y):g?-1:1);for(let g of _)l.push({title:g||null,devices:c.filter(y=>(y.machine_type??"")===g)})}let p=l.filter(b=>b.devices.length);return o`${i>tn?o`<div class="table-toolbar">
          <input
            class="search"
            type="search"
            name="device_search"
            aria-label=${this.t("search")}
            placeholder=${this.t("search")}
            .value=${this.query}
            @input=${b=>this.query=b.target.value}
          />
        </div>`:u}
    ${p.length?p.map(b=>o`<h2>${b.title||this.t("no_area")}</h2>
            <div class="grid" data-group=${b.title??""}>${b.devices.map(c=>this.card(c))}</div>`):o`<p class="muted">${this.t("no_match")}</p>`}`}card(e){let i=this.ctx.i18n,n=this.busyKeys.has(`open:${e.device_id}`);return o`<div class="card device" data-device=${e.device_id}>
      <h3>${e.name}</h3>
      <div class="sub-title">${[e.machine_type,e.device_id].filter(Boolean).join(" · ")}</div>
      <div class="chips">
        ${e.online?o`<span class="chip ok">${this.t("online")}</span>`:o`<span class="chip bad">${this.t("offline")}</span>`}
        ${e.in_use?o`<span class="chip info"
              >${e.member_name?this.t("in_use_by",{name:e.member_name}):this.t("in_use")}</span
            >`:o`<span class="chip">${this.t("free")}</span>`}
        ${e.link==="broken"?o`<span class="chip bad" data-status="link_broken" title=${this.t("link_broken_hint")}
              >${this.t("link_broken")}</span
            >`:u}
        ${e.blocked?o`<span class="chip bad">${this.t("blocked")}</span>`:u}
        ${e.maintenance_due?o`<span class="chip warn">${this.t("maintenance_due")}</span>`:u}
        ${e.busy?o`<span class="chip info">${this.t("busy")}</span>`:u}
        ${!e.paired&&!e.board?o`<span class="chip warn">${this.t("not_paired")}</span>`:u}
      </div>
      ${e.telemetry.length?o`<div class="telemetry">
            ${e.telemetry.map(r=>{let s=hi(e.safety_limits,r.key),d=r.unit&&r.value!==null&&r.value!==void 0?` ${r.unit}`:"",l=this.series.get(r.entity_id);return o`<span>${r.name}</span
                >${r.entity_id?o`<fluxilab-sparkline
                      data-channel=${r.key}
                      .points=${l}
                      label=${this.t("last_hour",{name:r.name})}
                    ></fluxilab-sparkline>`:o`<span></span>`}<span class="v ${_i(s,r.value)?"outside":""}" data-channel=${r.key}
                  >${i.number(r.value)}${d}${s?o` <span class="muted limit">${bi(i,s)}</span>`:u}</span
                >`})}
          </div>`:u}
      ${typeof e.hours_to_maintenance=="number"&&!e.maintenance_due?o`<div class="muted">${this.t("hours_left",{hours:i.number(e.hours_to_maintenance)})}</div>`:u}
      ${(e.maintenance_conditions||[]).map(r=>o`<div class="muted">
          ${r.due?o`<span class="chip warn">${this.t("maintenance_due")}</span> `:u}
          ${i.condition(r,e.telemetry.find(s=>s.key===r.channel)?.name??r.channel)}
        </div>`)}
      <div class="actions">
        ${e.link==="broken"?o`<span class="muted" data-hint="link_broken">${this.t("link_broken_hint")}</span>`:e.paired&&e.has_ui?o`<button
                class="primary"
                data-action="open"
                data-device=${e.device_id}
                ?disabled=${n}
                @click=${()=>{this.openDevice(e.device_id)}}
              >
                ${n?this.t("opening"):this.t("open")}
              </button>`:e.paired||e.board?o`<span class="muted">${this.t("no_ui")}</span>`:u}
        ${this.interestActions(e)}
      </div>
      ${this.blocked?.deviceId===e.device_id?o`<p class="muted">
            ${this.t("open_blocked")}
            <a href=${this.blocked.url} target="_blank" rel="noopener noreferrer" data-action="open-link"
              >${this.t("open_link",{name:e.name})}</a
            >
          </p>`:u}
      ${e.has_ui&&e.gateway_fingerprint?o`<details class="certificate">
            <summary class="muted">${this.t("gateway_certificate")}</summary>
            <p class="muted">${this.t("gateway_certificate_hint")}</p>
            <code>${e.gateway_fingerprint}</code>
          </details>`:u}
    </div>`}interestActions(e){if(!this.ctx.lab?.member||!e.in_use)return u;let i=this.interest.find(r=>r.device_id===e.device_id),n=this.busyKeys.has(`interest:${e.device_id}`);return i?o`<span class="chip info">${this.t("waiting_position",{position:i.position})}</span>
          <button
            class="secondary"
            data-action="interest-cancel"
            data-device=${e.device_id}
            ?disabled=${n}
            @click=${()=>{this.wait(e.device_id,!1)}}
          >
            ${this.t("stop_waiting")}
          </button>`:o`<button
          class="secondary"
          data-action="interest"
          data-device=${e.device_id}
          ?disabled=${n}
          @click=${()=>{this.wait(e.device_id,!0)}}
        >
          ${this.t("notify_when_free")}
        </button>`}};m([h()],ie.prototype,"interest",2),m([h()],ie.prototype,"query",2),m([h()],ie.prototype,"blocked",2),ie=m([$("fluxilab-lab-view")],ie);function mt(a,t){let e=new Date(a.getFullYear(),a.getMonth(),a.getDate()),i=(e.getDay()+6)%7;return e.setDate(e.getDate()-i+7*t),e}function fi(a,t){return Array.from({length:7},(e,i)=>{let n=new Date(a.getFullYear(),a.getMonth(),a.getDate()+i),r=new Date(a.getFullYear(),a.getMonth(),a.getDate()+i+1);return{day:n,bookings:t.filter(s=>{let d=new Date(s.start);return d>=n&&d<r})}})}function ke(a){return a?a.manager||a.user.is_admin||!!a.staff:!1}var U=class extends x{constructor(){super(...arguments);this.deviceId="";this.week=0;this.list=null;this.problems=null;this.errors={};this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}devices(){return(this.ctx.lab?.areas??[]).flatMap(e=>e.devices)}async load(){this.deviceId||(this.deviceId=this.devices()[0]?.device_id??"");let e=mt(new Date,this.week),i=new Date(e.getTime()+7*864e5);try{this.list=await this.ctx.client.bookings(this.deviceId||void 0,e.toISOString(),i.toISOString()),this.problems=this.ctx.lab?.member||ke(this.ctx.lab)?await this.ctx.client.problems(this.deviceId||void 0):null}catch(n){this.ctx.fail(n)}}timeSlot(e,i){let n=v(e,"day"),r=new Date(`${n}T${v(e,"from")}`),s=new Date(`${n}T${v(e,"to")}`);if(Number.isNaN(r.getTime())||Number.isNaN(s.getTime())){let d=n?Number.isNaN(r.getTime())?"from":"to":"day";return this.errors={[`${i}:${d}`]:this.t("field_required")},null}return[r.toISOString(),s.toISOString()]}async submit(e,i){try{let n=await f(this,e,i,{quiet:!0});return this.errors={},n}catch(n){this.errors={[e]:this.ctx.i18n.error(n)};return}}error(e){let i=this.errors[e];return i?o`<span class="field-error" role="alert" data-error=${e}>${i}</span>`:u}async scheduleOutage(e){e.preventDefault();let i=e.target,n=new FormData(i),r=this.timeSlot(n,"outage");if(!r)return;await this.submit("outage",()=>this.ctx.client.scheduleOutage(this.deviceId,r[0],r[1],v(n,"note").trim()))&&(i.reset(),this.ctx.done("outage_scheduled"),await this.load())}async endOutage(e){if(!await this.ctx.confirm({text:this.t("outage_end_confirm",{when:this.ctx.i18n.when(e.start)}),action:this.t("outage_end"),danger:!0}))return;await f(this,e.id,()=>this.ctx.client.endOutage(e.id))&&(this.ctx.done(),await this.load())}async report(e){e.preventDefault();let i=e.target,n=new FormData(i),r=n.get("unsafe")==="on";if(r&&!await this.ctx.confirm({text:this.t("problem_unsafe_confirm",{device:this.deviceName(this.deviceId)}),action:this.t("problem_report"),danger:!0}))return;await this.submit("report",()=>this.ctx.client.reportProblem(this.deviceId,v(n,"description"),r))&&(i.reset(),this.ctx.done("problem_reported"),await this.load())}async resolve(e,i){e.preventDefault();let n=new FormData(e.target);await this.submit(i.id,()=>this.ctx.client.resolveProblem(i.id,v(n,"resolution")))&&(this.ctx.done("problem_resolved_ok"),await this.load())}choose(e){this.deviceId=e,this.errors={},this.load()}move(e){this.week+=e,this.load()}async book(e){e.preventDefault();let i=this.timeSlot(new FormData(e.target),"book");if(!i)return;await this.submit("book",()=>this.ctx.client.book(this.deviceId,i[0],i[1]))&&(this.ctx.done("booked"),await this.load())}async cancel(e){let i=new Date(e.start)<=new Date;if(!await this.ctx.confirm({text:this.t(i?"booking_end_confirm":"booking_cancel_confirm",{when:this.ctx.i18n.when(e.start)}),action:this.t(i?"booking_end":"booking_cancel"),danger:!0}))return;await f(this,e.id,()=>this.ctx.client.cancelBooking(e.id))&&(this.ctx.done(),await this.load())}deviceName(e){return this.devices().find(i=>i.device_id===e)?.name??e}span(e){let i=n=>new Date(n).toLocaleTimeString(this.ctx.i18n.language,{hour:"2-digit",minute:"2-digit"});return`${i(e.start)}–${i(e.end)}`}mayCancel(e){return(e.member_id!==null&&e.member_id===this.ctx.lab?.member?.id||!!this.ctx.lab?.manager)&&!e.released&&new Date(e.end)>new Date}cancelButton(e){if(e.kind==="outage")return!ke(this.ctx.lab)||e.released||new Date(e.end)<=new Date?u:o`<button
        class="secondary"
        data-action="outage-end"
        data-booking=${e.id}
        ?disabled=${this.busyKeys.has(e.id)}
        @click=${()=>{this.endOutage(e)}}
      >
        ${this.t("outage_end")}
      </button>`;if(!this.mayCancel(e))return u;let i=new Date(e.start)<=new Date;return o`<button
      class="secondary"
      data-action="booking-cancel"
      data-booking=${e.id}
      ?disabled=${this.busyKeys.has(e.id)}
      @click=${()=>{this.cancel(e)}}
    >
      ${this.t(i?"booking_end":"booking_cancel")}
    </button>`}who(e){return e.kind==="outage"?e.note?`${this.t("outage")}: ${e.note}`:this.t("outage"):e.no_show?this.t("booking_no_show"):e.member_name??this.t("booked_slot")}outageForm(){return o`<form data-form="outage" class="card" @submit=${e=>{this.scheduleOutage(e)}}>
      <h3>${this.t("outage_schedule")}</h3>
      <label>${this.t("day")}<input type="date" name="day" required />${this.error("outage:day")}</label>
      <label>${this.t("from")}<input type="time" name="from" required />${this.error("outage:from")}</label>
      <label>${this.t("to")}<input type="time" name="to" required />${this.error("outage:to")}</label>
      <label>${this.t("outage_note")}<input name="note" maxlength="200" /></label>
      <div class="actions">
        <button class="primary" type="submit" ?disabled=${this.busyKeys.has("outage")}>
          ${this.t("outage_schedule")}
        </button>
        ${this.error("outage")}
      </div>
    </form>`}problemsPart(){let e=this.problems;if(!e)return u;let i=ke(this.ctx.lab),n=e.reports.filter(r=>r.device_id===this.deviceId);return o`${e.unsafe.includes(this.deviceId)?o`<p class="warning" data-field="unsafe">${this.t("problem_unsafe_banner")}</p>`:u}
      <form data-form="report" class="card" @submit=${r=>{this.report(r)}}>
        <h3>${this.t("problem_report")}</h3>
        <label>${this.t("problem_description")}<textarea name="description" maxlength="500" required></textarea></label>
        <label class="check"><input type="checkbox" name="unsafe" /> ${this.t("problem_unsafe")}</label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("report")}>
            ${this.t("problem_report")}
          </button>
          ${this.error("report")}
        </div>
      </form>
      <h3>${this.t("problem_reports")}</h3>
      ${n.length?o`<div class="table-wrap" data-view="problems">
            <table>
              ${n.map(r=>o`<tr data-report=${r.id}>
                    <td>${r.unsafe?o`<strong>${this.t("reason_unsafe")}</strong><br />`:u}${r.description}</td>
                    <td>${this.t("problem_by",{who:r.member_name??"—",when:this.ctx.i18n.when(r.reported)})}</td>
                    <td>
                      ${i?o`<form data-form="resolve" class="inline" @submit=${s=>{this.resolve(s,r)}}>
                            <input name="resolution" maxlength="500" placeholder=${this.t("problem_resolution")} />
                            <button class="secondary" type="submit" ?disabled=${this.busyKeys.has(r.id)}>
                              ${this.t("problem_resolve")}
                            </button>
                            ${this.error(r.id)}
                          </form>`:u}
                    </td>
                  </tr>`)}
            </table>
          </div>`:o`<p class="muted">${this.t("problem_none")}</p>`}`}render(){let e=this.list;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=this.devices(),n=mt(new Date,this.week),r=e.device,s=!!this.ctx.lab?.member;return o`<h2>${this.t("bookings")}</h2>
      ${i.length?o`<label
            >${this.t("device")}
            <select data-field="booking-device" @change=${d=>this.choose(d.target.value)}>
              ${i.map(d=>o`<option value=${d.device_id} ?selected=${d.device_id===this.deviceId}>${d.name}</option>`)}
            </select></label
          >`:o`<p class="muted">${this.t("no_devices")}</p>`}
      ${r?o`<div class="actions">
              <button class="secondary" data-action="week-previous" @click=${()=>this.move(-1)}>
                ${this.t("week_previous")}
              </button>
              <span>${this.ctx.i18n.day(n)}</span>
              <button class="secondary" data-action="week-next" @click=${()=>this.move(1)}>
                ${this.t("week_next")}
              </button>
            </div>
            ${r.mode==="off"?o`<p class="muted">${this.t("booking_mode_off")}</p>`:o`<p class="muted">
                  ${this.t(r.mode==="required"?"booking_mode_required":"booking_mode_optional",{min:r.min_minutes,max:r.max_minutes,days:r.ahead_days})}
                </p>`}
            <div class="table-wrap" data-view="week">
              <table>
                ${fi(n,r.bookings).map(({day:d,bookings:l})=>o`<tr>
                      <th>${this.ctx.i18n.day(d)}</th>
                      <td>
                        ${l.length?l.map(p=>o`<div class=${p.kind==="outage"?"booking outage":"booking"} data-booking=${p.id}>
                                  ${this.span(p)} · ${this.who(p)} ${this.cancelButton(p)}
                                </div>`):o`<span class="muted">${this.t("free")}</span>`}
                      </td>
                    </tr>`)}
              </table>
            </div>
            ${s&&r.mode!=="off"?o`<form data-form="book" class="card" @submit=${d=>{this.book(d)}}>
                  <label>${this.t("day")}<input type="date" name="day" required />${this.error("book:day")}</label>
                  <label>${this.t("from")}<input type="time" name="from" required />${this.error("book:from")}</label>
                  <label>${this.t("to")}<input type="time" name="to" required />${this.error("book:to")}</label>
                  <div class="actions">
                    <button class="primary" type="submit" ?disabled=${this.busyKeys.has("book")}>${this.t("book")}</button>
                    ${this.error("book")}
                  </div>
                </form>`:u}
            ${ke(this.ctx.lab)?this.outageForm():u} ${this.problemsPart()}`:u}
      <h2>${this.t("my_bookings")}</h2>
      ${e.no_shows?o`<p class="muted" data-field="no-shows">${this.t("booking_no_shows",{count:e.no_shows})}</p>`:u}
      ${e.mine.length?o`<div class="table-wrap" data-view="my-bookings">
            <table>
              ${e.mine.map(d=>o`<tr data-booking=${d.id}>
                    <td>${this.deviceName(d.device_id)}</td>
                    <td>${this.ctx.i18n.when(d.start)} – ${this.ctx.i18n.when(d.end)}</td>
                    <td>${this.cancelButton(d)}</td>
                  </tr>`)}
            </table>
          </div>`:o`<p class="muted">${this.t("no_bookings")}</p>`}`}};m([h()],U.prototype,"deviceId",2),m([h()],U.prototype,"week",2),m([h()],U.prototype,"list",2),m([h()],U.prototype,"problems",2),m([h()],U.prototype,"errors",2),U=m([$("fluxilab-bookings-view")],U);var ut="fluxilab-print-style",ne=class extends x{constructor(){super(...arguments);this.presence=null;this.settings=null;this.printing=!1;this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){try{let[e,i]=await Promise.all([this.ctx.client.occupancy(),this.ctx.lab?.manager?this.ctx.client.occupancySettings():Promise.resolve(null)]);this.presence=e,this.settings=i}catch(e){this.ctx.fail(e)}}where(e){return e.map(i=>i==="entrance"?this.t("entrance"):i).join(", ")}async check(e){await f(this,e,()=>this.ctx.client.check(e))!==void 0&&this.ctx.done(),await this.load()}print(){if(this.presence?.members&&(this.printing=!0,!document.getElementById(ut))){let e=document.createElement("style");e.id=ut,e.textContent="@media print { body * { visibility: hidden !important; } }",document.head.appendChild(e)}}closePrint(){this.printing=!1,document.getElementById(ut)?.remove()}disconnectedCallback(){super.disconnectedCallback(),this.closePrint()}printable(){let e=this.presence,i=e?.members??[];return o`<section class="printable" role="dialog" aria-modal="true" aria-label=${this.t("print_list")}>
      <div class="actions no-print">
        <button class="primary" data-action="print-now" @click=${()=>window.print()}>${this.t("print_list")}</button>
        <button class="secondary" data-action="presence-csv" @click=${()=>this.csv()}>
          ${this.t("download_csv")}
        </button>
        <button class="secondary" data-action="print-close" @click=${()=>this.closePrint()}>${this.t("close")}</button>
      </div>
      <h1>${this.t("people_in_lab",{count:e?.count??0})}</h1>
      <p>${this.ctx.i18n.when(new Date().toISOString())}</p>
      <table>
        <tr>
          <th>${this.t("name")}</th>
          <th>${this.t("since")}</th>
          <th>${this.t("where")}</th>
          <th>✔</th>
        </tr>
        ${i.map(n=>o`<tr>
              <td>${n.name}</td>
              <td>${this.ctx.i18n.when(n.since)}</td>
              <td>${this.where(n.where)}</td>
              <td>☐</td>
            </tr>`)}
      </table>
    </section>`}csv(){let e=n=>`"${String(n).replace(/"/g,'""')}"`,i=[["member_id","name","since","where"].join(",")];for(let n of this.presence?.members??[])i.push([n.member_id,n.name,n.since,n.where.join("; ")].map(e).join(","));R(`${i.join(`
`)}
`,"fluxilab-in-the-lab.csv","text/csv")}async saveSettings(e){e.preventDefault();let i=new FormData(e.target),n=await f(this,"settings",()=>this.ctx.client.occupancySettings({checkin_expiry_hours:Number(i.get("checkin_expiry_hours"))}));n&&(this.settings=n,this.ctx.done())}render(){let e=this.presence;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=!!this.ctx.lab?.member;return this.printing?this.printable():o`<h2>${this.t("people_in_lab",{count:e.count})}</h2>
      <div class="actions">
        <button class="secondary" data-action="presence-refresh" @click=${()=>{this.load()}}>
          ${this.t("refresh")}
        </button>
        ${i?o`<button
                class="secondary"
                data-action="presence-check"
                data-verb="check_in"
                ?disabled=${this.busyKeys.has("check_in")}
                @click=${()=>{this.check("check_in")}}
              >
                ${this.t("check_in")}
              </button>
              <button
                class="secondary"
                data-action="presence-check"
                data-verb="check_out"
                ?disabled=${this.busyKeys.has("check_out")}
                @click=${()=>{this.check("check_out")}}
              >
                ${this.t("check_out")}
              </button>`:u}
        ${e.members?o`<button class="primary" data-action="presence-print" @click=${()=>this.print()}>
                ${this.t("print_list")}
              </button>
              <button class="secondary" data-action="presence-csv" @click=${()=>this.csv()}>
                ${this.t("download_csv")}
              </button>`:u}
      </div>
      ${e.members?e.members.length?o`<div class="table-wrap">
              <table>
                <tr>
                  <th>${this.t("name")}</th>
                  <th>${this.t("since")}</th>
                  <th>${this.t("where")}</th>
                </tr>
                ${e.members.map(n=>o`<tr>
                      <td>${n.name}</td>
                      <td>${this.ctx.i18n.when(n.since)}</td>
                      <td>${this.where(n.where)}</td>
                    </tr>`)}
              </table>
            </div>`:o`<p class="muted">${this.t("nobody_in_lab")}</p>`:u}
      ${this.settings?o`<form data-form="presence-settings" class="card" @submit=${n=>{this.saveSettings(n)}}>
            <label
              >${this.t("checkin_expiry_hours")}<input
                type="number"
                min="1"
                max="168"
                step="1"
                name="checkin_expiry_hours"
                required
                value=${this.settings.checkin_expiry_hours}
            /></label>
            <div class="actions">
              <button class="primary" type="submit" ?disabled=${this.busyKeys.has("settings")}>${this.t("save")}</button>
            </div>
          </form>`:u}`}};m([h()],ne.prototype,"presence",2),m([h()],ne.prototype,"settings",2),m([h()],ne.prototype,"printing",2),ne=m([$("fluxilab-presence-view")],ne);var gi=["lab","bookings","presence","profile","admin"],rn={success:5,error:10},sn=2e3,an=o`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3,6H21V8H3V6M3,11H21V13H3V11M3,16H21V18H3V16Z" /></svg>`,z=class extends A{constructor(){super(...arguments);this.narrow=!1;this.lab=null;this.admin=null;this.toast=null;this.asking=null;this.path="";this.client=new Me(()=>this.hass);this.exceptions=null;this.language="";this.unsubscribe=null;this.toastId=0}connectedCallback(){super.connectedCallback(),this.hass&&this.subscribe()}disconnectedCallback(){super.disconnectedCallback();let e=this.unsubscribe;this.unsubscribe=null,e?.then(i=>i()).catch(()=>{}),clearTimeout(this.adminTimer),this.adminTimer=void 0,clearTimeout(this.toastTimer)}shouldUpdate(e){return e.size===1&&e.has("hass")&&this.i18n&&this.unsubscribe?(this.hass.locale?.language||this.hass.language||"en")!==this.language:!0}willUpdate(e){if(e.has("hass")&&this.hass){let i=this.hass.locale?.language||this.hass.language||"en";i!==this.language&&(this.language=i,this.i18n=new N(this.hass,this.exceptions),Mt(this.hass).then(n=>{this.exceptions=n,this.i18n=new N(this.hass,n),this.requestUpdate()})),this.unsubscribe||this.subscribe()}e.has("route")&&this.route&&(this.path=this.route.path.replace(/^\//,""))}subscribe(){this.unsubscribe||!this.hass||!this.isConnected||(this.unsubscribe=this.client.subscribeLab(e=>{this.lab=e,this.querySelectorLab()?.labUpdated(),this.tab==="admin"&&e.manager&&this.adminTimer===void 0&&(this.adminTimer=window.setTimeout(()=>{this.adminTimer=void 0,this.reloadAdmin()},sn))}),this.unsubscribe.catch(e=>{this.unsubscribe=null,this.fail(e)}))}querySelectorLab(){return this.renderRoot?.querySelector("fluxilab-lab-view")??null}get tab(){let e=this.path.split("/")[0];return e==="admin"&&this.lab&&!this.lab.manager?"lab":gi.includes(e)?e:"lab"}get sub(){let e=this.path.split("/")[1];return ct.includes(e)?e:"members"}navigate(e){let i=this.route?.prefix??"/fluxilab",n=this.tab==="admin";this.path=e,window.history.pushState(null,"",`${i}/${e}`),window.dispatchEvent(new CustomEvent("location-changed",{detail:{replace:!1}})),this.tab==="admin"&&!n&&this.reloadAdmin()}async reloadAdmin(){try{this.admin=await this.client.adminState()}catch(e){this.fail(e)}}show(e,i){clearTimeout(this.toastTimer),this.toast={kind:e,text:i,id:++this.toastId},this.toastTimer=window.setTimeout(()=>this.toast=null,rn[e]*1e3)}done(e="done",i){this.i18n&&this.show("success",this.i18n.t(e,i))}fail(e){this.i18n&&this.show("error",this.i18n.error(e))}confirm(e){return this.asking?.resolve(!1),new Promise(i=>{this.asking={...e,resolve:i},this.updateComplete.then(()=>{let n=this.renderRoot.querySelector("dialog.confirm");n&&!n.open&&n.showModal()})})}answer(e){let i=this.asking;this.asking=null,this.renderRoot.querySelector("dialog.confirm")?.close(),i?.resolve(e)}context(e){return{client:this.client,i18n:e,lab:this.lab,admin:this.admin,done:(i,n)=>this.done(i,n),fail:i=>this.fail(i),confirm:i=>this.confirm(i),reloadAdmin:()=>this.reloadAdmin(),navigate:i=>this.navigate(i)}}firstUpdated(){this.tab==="admin"&&this.reloadAdmin()}updated(e){(e.has("lab")||e.has("path"))&&this.tab==="admin"&&!this.admin&&this.lab?.manager&&this.reloadAdmin()}render(){let e=this.i18n;if(!e)return o``;let i=e.t.bind(e),n=this.context(e),r=gi.filter(d=>d!=="admin"||this.lab?.manager),s=this.tab;return o`
      <header>
        ${this.narrow?o`<button
              class="menu"
              aria-label=${i("menu")}
              @click=${()=>this.dispatchEvent(new Event("hass-toggle-menu",{bubbles:!0,composed:!0}))}
            >
              ${an}
            </button>`:u}
        <h1>${i("title")}</h1>
      </header>
      <nav class="tabs" role="tablist">
        ${r.map(d=>o`<button
            role="tab"
            data-tab=${d}
            aria-selected=${String(s===d)}
            @click=${()=>this.navigate(d==="admin"?`admin/${this.sub}`:d)}
          >
            ${i(d)}
          </button>`)}
      </nav>
      <main id="content">
        ${s==="bookings"?o`<fluxilab-bookings-view .ctx=${n}></fluxilab-bookings-view>`:s==="presence"?o`<fluxilab-presence-view .ctx=${n}></fluxilab-presence-view>`:s==="profile"?o`<fluxilab-profile-view .ctx=${n}></fluxilab-profile-view>`:s==="admin"?o`<fluxilab-admin-view .ctx=${n} .sub=${this.sub}></fluxilab-admin-view>`:o`<fluxilab-lab-view .ctx=${n}></fluxilab-lab-view>`}
      </main>
      ${this.toast?o`<div class="toast ${this.toast.kind}" role=${this.toast.kind==="error"?"alert":"status"} data-toast=${this.toast.kind}>
            <span class="toast-text">${this.toast.text}</span>
            <button @click=${()=>this.toast=null}>${i("close")}</button>
          </div>`:u}
      <dialog class="confirm" @cancel=${()=>this.answer(!1)}>
        ${this.asking?o`<p>${this.asking.text}</p>
              <div class="actions">
                <button class="secondary" data-confirm="no" @click=${()=>this.answer(!1)}>${i("cancel")}</button>
                <button
                  class=${this.asking.danger?"danger filled":"primary"}
                  data-confirm="yes"
                  @click=${()=>this.answer(!0)}
                >
                  ${this.asking.action}
                </button>
              </div>`:u}
      </dialog>
    `}};z.styles=It,m([k({attribute:!1})],z.prototype,"hass",2),m([k({type:Boolean})],z.prototype,"narrow",2),m([k({attribute:!1})],z.prototype,"route",2),m([k({attribute:!1})],z.prototype,"panel",2),m([h()],z.prototype,"lab",2),m([h()],z.prototype,"admin",2),m([h()],z.prototype,"toast",2),m([h()],z.prototype,"asking",2),m([h()],z.prototype,"path",2);tt("fluxilab-panel",z);export{z as FluxiLabPanel};
