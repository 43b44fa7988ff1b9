/* FluxiLab panel: built from frontend/src by `npm run build` (esbuild). Do not edit. */
var Nt=Object.defineProperty;var Rt=Object.getOwnPropertyDescriptor;var p=(a,t,e,s)=>{for(var i=s>1?void 0:s?Rt(t,e):t,n=a.length-1,r;n>=0;n--)(r=a[n])&&(i=(s?r(t,e,i):r(i))||i);return s&&i&&Nt(t,e,i),i};var be=globalThis,fe=be.ShadowRoot&&(be.ShadyCSS===void 0||be.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,Ie=Symbol(),Je=new WeakMap,se=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==Ie)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(fe&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=Je.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&Je.set(e,t))}return t}toString(){return this.cssText}},Qe=a=>new se(typeof a=="string"?a:a+"",void 0,Ie),ne=(a,...t)=>{let e=a.length===1?a[0]:t.reduce((s,i,n)=>s+(r=>{if(r._$cssResult$===!0)return r.cssText;if(typeof r=="number")return r;throw Error("Value passed to 'css' function must be a 'css' function result: "+r+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(i)+a[n+1],a[0]);return new se(e,a,Ie)},Ze=(a,t)=>{if(fe)a.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),i=be.litNonce;i!==void 0&&s.setAttribute("nonce",i),s.textContent=e.cssText,a.appendChild(s)}},Le=fe?a=>a:a=>a instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return Qe(e)})(a):a;var{is:Mt,defineProperty:It,getOwnPropertyDescriptor:Lt,getOwnPropertyNames:Dt,getOwnPropertySymbols:Ot,getPrototypeOf:qt}=Object,_e=globalThis,Xe=_e.trustedTypes,Ut=Xe?Xe.emptyScript:"",Ht=_e.reactiveElementPolyfillSupport,re=(a,t)=>a,ae={toAttribute(a,t){switch(t){case Boolean:a=a?Ut:null;break;case Object:case Array:a=a==null?a:JSON.stringify(a)}return a},fromAttribute(a,t){let e=a;switch(t){case Boolean:e=a!==null;break;case Number:e=a===null?null:Number(a);break;case Object:case Array:try{e=JSON.parse(a)}catch{e=null}}return e}},ve=(a,t)=>!Mt(a,t),Ve={attribute:!0,type:String,converter:ae,reflect:!1,useDefault:!1,hasChanged:ve};Symbol.metadata??=Symbol("metadata"),_e.litPropertyMetadata??=new WeakMap;var C=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Ve){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),i=this.getPropertyDescriptor(t,s,e);i!==void 0&&It(this.prototype,t,i)}}static getPropertyDescriptor(t,e,s){let{get:i,set:n}=Lt(this.prototype,t)??{get(){return this[e]},set(r){this[e]=r}};return{get:i,set(r){let c=i?.call(this);n?.call(this,r),this.requestUpdate(t,c,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Ve}static _$Ei(){if(this.hasOwnProperty(re("elementProperties")))return;let t=qt(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(re("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(re("properties"))){let e=this.properties,s=[...Dt(e),...Ot(e)];for(let i of s)this.createProperty(i,e[i])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,i]of e)this.elementProperties.set(s,i)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let i=this._$Eu(e,s);i!==void 0&&this._$Eh.set(i,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let i of s)e.unshift(Le(i))}else t!==void 0&&e.push(Le(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Ze(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),i=this.constructor._$Eu(t,s);if(i!==void 0&&s.reflect===!0){let n=(s.converter?.toAttribute!==void 0?s.converter:ae).toAttribute(e,s.type);this._$Em=t,n==null?this.removeAttribute(i):this.setAttribute(i,n),this._$Em=null}}_$AK(t,e){let s=this.constructor,i=s._$Eh.get(t);if(i!==void 0&&this._$Em!==i){let n=s.getPropertyOptions(i),r=typeof n.converter=="function"?{fromAttribute:n.converter}:n.converter?.fromAttribute!==void 0?n.converter:ae;this._$Em=i;let c=r.fromAttribute(e,n.type);this[i]=c??this._$Ej?.get(i)??c,this._$Em=null}}requestUpdate(t,e,s,i=!1,n){if(t!==void 0){let r=this.constructor;if(i===!1&&(n=this[t]),s??=r.getPropertyOptions(t),!((s.hasChanged??ve)(n,e)||s.useDefault&&s.reflect&&n===this._$Ej?.get(t)&&!this.hasAttribute(r._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:i,wrapped:n},r){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,r??e??this[t]),n!==!0||r!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),i===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[i,n]of this._$Ep)this[i]=n;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[i,n]of s){let{wrapped:r}=n,c=this[i];r!==!0||this._$AL.has(i)||c===void 0||this.C(i,void 0,n,c)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};C.elementStyles=[],C.shadowRootOptions={mode:"open"},C[re("elementProperties")]=new Map,C[re("finalized")]=new Map,Ht?.({ReactiveElement:C}),(_e.reactiveElementVersions??=[]).push("2.1.2");var Oe=globalThis,et=a=>a,ge=Oe.trustedTypes,tt=ge?ge.createPolicy("lit-html",{createHTML:a=>a}):void 0,qe="$lit$",N=`lit$${Math.random().toFixed(9).slice(2)}$`,Ue="?"+N,Kt=`<${Ue}>`,F=document,le=()=>F.createComment(""),de=a=>a===null||typeof a!="object"&&typeof a!="function",He=Array.isArray,ot=a=>He(a)||typeof a?.[Symbol.iterator]=="function",De=`[ 	
\f\r]`,oe=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,it=/-->/g,st=/>/g,H=RegExp(`>|${De}(?:([^\\s"'>=/]+)(${De}*=${De}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),nt=/'/g,rt=/"/g,lt=/^(?:script|style|textarea|title)$/i,Ke=a=>(t,...e)=>({_$litType$:a,strings:t,values:e}),o=Ke(1),dt=Ke(2),fi=Ke(3),R=Symbol.for("lit-noChange"),m=Symbol.for("lit-nothing"),at=new WeakMap,K=F.createTreeWalker(F,129);function ct(a,t){if(!He(a)||!a.hasOwnProperty("raw"))throw Error("invalid template strings array");return tt!==void 0?tt.createHTML(t):t}var pt=(a,t)=>{let e=a.length-1,s=[],i,n=t===2?"<svg>":t===3?"<math>":"",r=oe;for(let c=0;c<e;c++){let l=a[c],d,h,u=-1,f=0;for(;f<l.length&&(r.lastIndex=f,h=r.exec(l),h!==null);)f=r.lastIndex,r===oe?h[1]==="!--"?r=it:h[1]!==void 0?r=st:h[2]!==void 0?(lt.test(h[2])&&(i=RegExp("</"+h[2],"g")),r=H):h[3]!==void 0&&(r=H):r===H?h[0]===">"?(r=i??oe,u=-1):h[1]===void 0?u=-2:(u=r.lastIndex-h[2].length,d=h[1],r=h[3]===void 0?H:h[3]==='"'?rt:nt):r===rt||r===nt?r=H:r===it||r===st?r=oe:(r=H,i=void 0);let _=r===H&&a[c+1].startsWith("/>")?" ":"";n+=r===oe?l+Kt:u>=0?(s.push(d),l.slice(0,u)+qe+l.slice(u)+N+_):l+N+(u===-2?c:_)}return[ct(a,n+(a[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},ce=class a{constructor({strings:t,_$litType$:e},s){let i;this.parts=[];let n=0,r=0,c=t.length-1,l=this.parts,[d,h]=pt(t,e);if(this.el=a.createElement(d,s),K.currentNode=this.el.content,e===2||e===3){let u=this.el.content.firstChild;u.replaceWith(...u.childNodes)}for(;(i=K.nextNode())!==null&&l.length<c;){if(i.nodeType===1){if(i.hasAttributes())for(let u of i.getAttributeNames())if(u.endsWith(qe)){let f=h[r++],_=i.getAttribute(u).split(N),w=/([.?@])?(.*)/.exec(f);l.push({type:1,index:n,name:w[2],strings:_,ctor:w[1]==="."?$e:w[1]==="?"?xe:w[1]==="@"?we:j}),i.removeAttribute(u)}else u.startsWith(N)&&(l.push({type:6,index:n}),i.removeAttribute(u));if(lt.test(i.tagName)){let u=i.textContent.split(N),f=u.length-1;if(f>0){i.textContent=ge?ge.emptyScript:"";for(let _=0;_<f;_++)i.append(u[_],le()),K.nextNode(),l.push({type:2,index:++n});i.append(u[f],le())}}}else if(i.nodeType===8)if(i.data===Ue)l.push({type:2,index:n});else{let u=-1;for(;(u=i.data.indexOf(N,u+1))!==-1;)l.push({type:7,index:n}),u+=N.length-1}n++}}static createElement(t,e){let s=F.createElement("template");return s.innerHTML=t,s}};function B(a,t,e=a,s){if(t===R)return t;let i=s!==void 0?e._$Co?.[s]:e._$Cl,n=de(t)?void 0:t._$litDirective$;return i?.constructor!==n&&(i?._$AO?.(!1),n===void 0?i=void 0:(i=new n(a),i._$AT(a,e,s)),s!==void 0?(e._$Co??=[])[s]=i:e._$Cl=i),i!==void 0&&(t=B(a,i._$AS(a,t.values),i,s)),t}var ye=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,i=(t?.creationScope??F).importNode(e,!0);K.currentNode=i;let n=K.nextNode(),r=0,c=0,l=s[0];for(;l!==void 0;){if(r===l.index){let d;l.type===2?d=new Q(n,n.nextSibling,this,t):l.type===1?d=new l.ctor(n,l.name,l.strings,this,t):l.type===6&&(d=new ke(n,this,t)),this._$AV.push(d),l=s[++c]}r!==l?.index&&(n=K.nextNode(),r++)}return K.currentNode=F,i}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},Q=class a{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,i){this.type=2,this._$AH=m,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=i,this._$Cv=i?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=B(this,t,e),de(t)?t===m||t==null||t===""?(this._$AH!==m&&this._$AR(),this._$AH=m):t!==this._$AH&&t!==R&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):ot(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==m&&de(this._$AH)?this._$AA.nextSibling.data=t:this.T(F.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,i=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=ce.createElement(ct(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===i)this._$AH.p(e);else{let n=new ye(i,this),r=n.u(this.options);n.p(e),this.T(r),this._$AH=n}}_$AC(t){let e=at.get(t.strings);return e===void 0&&at.set(t.strings,e=new ce(t)),e}k(t){He(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,i=0;for(let n of t)i===e.length?e.push(s=new a(this.O(le()),this.O(le()),this,this.options)):s=e[i],s._$AI(n),i++;i<e.length&&(this._$AR(s&&s._$AB.nextSibling,i),e.length=i)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=et(t).nextSibling;et(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},j=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,i,n){this.type=1,this._$AH=m,this._$AN=void 0,this.element=t,this.name=e,this._$AM=i,this.options=n,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=m}_$AI(t,e=this,s,i){let n=this.strings,r=!1;if(n===void 0)t=B(this,t,e,0),r=!de(t)||t!==this._$AH&&t!==R,r&&(this._$AH=t);else{let c=t,l,d;for(t=n[0],l=0;l<n.length-1;l++)d=B(this,c[s+l],e,l),d===R&&(d=this._$AH[l]),r||=!de(d)||d!==this._$AH[l],d===m?t=m:t!==m&&(t+=(d??"")+n[l+1]),this._$AH[l]=d}r&&!i&&this.j(t)}j(t){t===m?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},$e=class extends j{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===m?void 0:t}},xe=class extends j{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==m)}},we=class extends j{constructor(t,e,s,i,n){super(t,e,s,i,n),this.type=5}_$AI(t,e=this){if((t=B(this,t,e,0)??m)===R)return;let s=this._$AH,i=t===m&&s!==m||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,n=t!==m&&(s===m||i);i&&this.element.removeEventListener(this.name,this,s),n&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},ke=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){B(this,t)}},ut={M:qe,P:N,A:Ue,C:1,L:pt,R:ye,D:ot,V:B,I:Q,H:j,N:xe,U:we,B:$e,F:ke},Ft=Oe.litHtmlPolyfillSupport;Ft?.(ce,Q),(Oe.litHtmlVersions??=[]).push("3.3.3");var mt=(a,t,e)=>{let s=e?.renderBefore??t,i=s._$litPart$;if(i===void 0){let n=e?.renderBefore??null;s._$litPart$=i=new Q(t.insertBefore(le(),n),n,void 0,e??{})}return i._$AI(a),i};var Fe=globalThis,S=class extends C{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=mt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return R}};S._$litElement$=!0,S.finalized=!0,Fe.litElementHydrateSupport?.({LitElement:S});var Bt=Fe.litElementPolyfillSupport;Bt?.({LitElement:S});(Fe.litElementVersions??=[]).push("4.2.2");var y=a=>(t,e)=>{e!==void 0?e.addInitializer(()=>{customElements.define(a,t)}):customElements.define(a,t)};var jt={attribute:!0,type:String,converter:ae,reflect:!1,hasChanged:ve},Wt=(a=jt,t,e)=>{let{kind:s,metadata:i}=e,n=globalThis.litPropertyMetadata.get(i);if(n===void 0&&globalThis.litPropertyMetadata.set(i,n=new Map),s==="setter"&&((a=Object.create(a)).wrapped=!0),n.set(e.name,a),s==="accessor"){let{name:r}=e;return{set(c){let l=t.get.call(this);t.set.call(this,c),this.requestUpdate(r,l,a,!0,c)},init(c){return c!==void 0&&this.C(r,void 0,a,c),c}}}if(s==="setter"){let{name:r}=e;return function(c){let l=this[r];t.call(this,c),this.requestUpdate(r,l,a,!0,c)}}throw Error("Unsupported decorator location: "+s)};function g(a){return(t,e)=>typeof e=="object"?Wt(a,t,e):((s,i,n)=>{let r=i.hasOwnProperty(n);return i.constructor.createProperty(n,s),r?Object.getOwnPropertyDescriptor(i,n):void 0})(a,t,e)}function b(a){return g({...a,state:!0,attribute:!1})}var Ae=class{constructor(t){this.hass=t}send(t,e={}){return this.hass().connection.sendMessagePromise({type:`fluxilab/${t}`,...e})}recorded(t,e){return this.hass().connection.sendMessagePromise({type:"history/history_during_period",start_time:e.toISOString(),entity_ids:t,minimal_response:!0,no_attributes:!0,significant_changes_only:!1})}lab(){return this.send("panel/lab")}subscribeLab(t){return this.hass().connection.subscribeMessage(t,{type:"fluxilab/panel/subscribe"})}open(t){return this.send("panel/open",{device_id:t})}profile(){return this.send("panel/profile")}changePin(t,e){return this.send("panel/change_pin",{new_pin:t,current_pin:e})}adminState(){return this.send("panel/admin/state")}memberCreate(t){return this.send("panel/admin/member_create",{...t})}memberUpdate(t,e){return this.send("panel/admin/member_update",{member_id:t,...e})}memberDelete(t){return this.send("panel/admin/member_delete",{member_id:t})}assignCard(t,e){return this.send("panel/admin/assign_card",{member_id:t,card:e})}grant(t){return this.send("panel/admin/grant",{...t})}revoke(t){return this.send("panel/admin/revoke",{authorization_id:t})}block(t,e){return this.send("panel/admin/block",{device_id:t,blocked:e})}recordMaintenance(t){return this.send("panel/admin/record_maintenance",{device_id:t})}history(t){return this.send("panel/admin/history",{...t})}audit(t){return this.send("panel/admin/audit",{...t})}machineTypeSave(t){return this.send("panel/admin/machine_type_save",{...t})}machineTypeDelete(t){return this.send("panel/admin/machine_type_delete",{machine_type_id:t})}retention(t){return this.send("panel/admin/retention",{...t})}memberExport(t){return this.send("panel/admin/member_export",{member_id:t})}credentialAdd(t,e,s){return this.send("credentials/add",{member_id:t,credential_type:"card",card:e,...s?{label:s}:{}})}credentialUpdate(t,e,s){return this.send("credentials/update",{credential_id:t,active:e,...s?{member_id:s}:{}})}credentialRemove(t,e){return this.send("credentials/remove",{member_id:t,credential_id:e})}resetPin(t){return this.send("credentials/reset_pin",{member_id:t})}interestList(){return this.send("interest/list")}interest(t,e){return this.send(e?"interest/subscribe":"interest/cancel",{fluxilab_device:t})}lapsingMine(){return this.send("lapsing/mine")}lapsingList(){return this.send("lapsing/list")}lapsingRenew(t){return this.send("lapsing/renew",{authorization_id:t})}notifyGet(){return this.send("notify/get")}notifySet(t){return this.send("notify/set",{notify_service:t})}notifySettings(t){return this.send("notify/settings",{...t??{}})}occupancy(){return this.send("occupancy/list")}occupancySettings(t){return this.send("occupancy/settings",{...t??{}})}check(t){return this.hass().callService("fluxilab",t,{})}};var pe={title:"FluxiLab",presence:"In the lab",people_in_lab:"People in the lab: {count}",nobody_in_lab:"Nobody is in the lab.",since:"Since",where:"Where",entrance:"checked in",print_list:"Print",check_in:"Check in",check_out:"Check out",checkin_expiry_hours:"Check-ins expire after (hours)",make_supervisor:"Make supervisor",remove_supervisor:"Not a supervisor",trainer:"Trainer",trained_by:"trained by {name}",requires_supervisor:"Requires a supervisor present",supervisor_minutes:"Supervisor counts for (minutes)",supervised_hours_start:"Unsupervised use from",supervised_hours_end:"Unsupervised use until",training_expiry_days:"Training authorizations last (days)",lab:"Lab",profile:"My profile",admin:"Admin",no_area:"Other equipment",no_devices:"There is no equipment you may use yet. Ask a lab admin for an authorization.",not_linked:"Your Home Assistant user is not linked to a lab member.",online:"Online",offline:"Offline",in_use:"In use",in_use_by:"In use by {name}",free:"Free",maintenance_due:"Maintenance due",blocked:"Blocked",not_paired:"Not paired",open:"Open",opening:"Opening…",open_refused:"The device's UI address is not a web address: ask an admin to check it.",no_ui:"No device UI",gateway_certificate:"Certificate fingerprint (SHA-256)",gateway_certificate_hint:"If your browser warns about this device's certificate, go on only if it shows this fingerprint.",hours_left:"{hours} h to maintenance",loading:"Loading…",member:"Member",role:"Role",role_admin:"Admin",role_staff:"Staff",role_user:"User",active:"Active",inactive:"Inactive",cards:"Cards",none:"None",authorizations:"Authorizations",expires:"Expires",never:"Never",expired:"Expired",hours:"Hours",sessions:"Recent sessions",device:"Device",start:"Start",end:"End",duration:"Duration",open_session:"open",change_pin:"Change device PIN / password",pin_hint:"At least 6 characters. Used at the devices' keypad and login page.",current_pin:"Current PIN",new_pin:"New PIN",repeat_pin:"Repeat new PIN",save:"Save",pin_mismatch:"The two new PINs differ.",pin_short:"A PIN needs at least 6 characters.",pin_changed:"Your PIN was changed.",pin_must_change:"Your PIN is an initial one from an admin: it does not work at the devices until you replace it here with one of your own.",current_initial_pin:"Current (initial) PIN",no_pin_yet:"You have no PIN yet: ask an admin to issue you one (Reset PIN), then replace it here.",members:"Members",devices:"Devices",unknown_cards:"Unknown cards",history:"Usage history",audit:"Audit log",name:"Name",email:"E-mail",linked_user:"Home Assistant user",no_user:"Not linked",card:"Card",initial_pin:"Initial PIN",create_member:"Add member",create:"Add",delete:"Delete",confirm_delete:"Delete {name}? Their history is anonymized.",activate:"Activate",deactivate:"Deactivate",grant:"Grant",grant_to:"Grant to members",machine_type:"Machine type",revoke:"Revoke",block:"Block",unblock:"Unblock",record_maintenance:"Maintenance done",usage_hours:"Usage hours",seen_at:"Seen at",seen:"Seen",assign_to:"Assign to",assign:"Assign",filter:"Filter",all:"All",from:"From",to:"To",download_csv:"Download CSV",time:"Time",kind:"Event",reason:"Reason",done:"Done.",refresh:"Refresh",has_pin:"PIN set",no_pin:"No PIN",target:"For",status:"Status",menu:"Menu",machine_types:"Machine types",settings:"Settings",new_type:"New machine type",edit:"Edit",session_timeout:"Session timeout (s)",grace_period:"Grace period (s)",requires_authorization:"Requires an authorization",maintenance_interval:"Maintenance every (usage hours)",maintenance_message:"Maintenance message on the device",block_when_maintenance_due:"Block when maintenance is due",offline_policy:"Without the hub (offline)",offline_default:"Default: deny if it has safety limits",offline_allow_mirrored:"Allow members in the device's mirror (their rules are checked there)",offline_deny:"Deny everyone",offline_max_age:"Offline for at most (hours without the hub)",busy_channel:"Busy while channel",busy_above:"is above",busy_delay:"Idle after (s) below it",maintenance_conditions:"Maintenance conditions (JSON list)",busy:"Working (telemetry)",condition_progress:"{text}: {value} of {target}",safety_channel:"Safety interlock: channel",safety_min:"minimum",safety_max:"maximum",safety:"Safety interlock",retention:"Retention",usage_retention_days:"Keep usage history (days)",unknown_card_retention_days:"Keep unknown cards (days)",show_member_names:"Show members' names on entities, in the logbook and in events (every Home Assistant user sees them; the recorder keeps them)",apply_retention:"Save and purge",purged:"{count} entries anonymized, {cards} unknown cards deleted.",gdpr_export:"Export a member's data (GDPR)",export:"Export",cancel:"Cancel",credentials:"Cards and PIN",credentials_of:"Cards and PIN of {name}",credential_label:"Label",credential_type:"Type",type_card:"Card",type_pin:"PIN",last_used:"Last used",never_used:"Never used",report_lost:"Report lost",confirm_lost:"Deactivate {label}? Devices refuse it at once; your other cards and PIN keep working. An admin can reactivate it.",add_credential:"Add card",reset_pin:"Reset PIN",confirm_reset_pin:"Issue {name} a new initial PIN? Their current PIN stops working at once; the new one is shown only now and works at no device until they replace it.",pin_issued:"Initial PIN for {name}: {pin} (shown only now). Give it to them: they replace it in their profile before using it at a device.",must_change:"must be changed",close:"Close",notify_when_free:"Tell me when it's free",waiting_position:"You'll be told (#{position})",stop_waiting:"Stop waiting",lapsing:"Lapsing",lapse_date:"Lapses",lapsed:"Lapsed",lapse_cause_inactivity:"unused",lapse_cause_expires:"expires",lapse_never:"Never",renew:"Renew",lapsing_none:"No authorization lapses within {days} days.",lapsing_hint:"Authorizations unused for their machine type's months, or expiring, within {days} days. Renewing starts the months again.",lapse_after_months:"Lapses after months unused",notifications:"Notifications",no_phones:"none registered",admin_notify_services:"Admin notification services (comma separated)",lapse_notice_days:"Lapse notice (days ahead)",interest_expiry_hours:`"Tell me when it's free" waits at most (hours)`,all_kinds:"All events",all_roles:"All roles",all_statuses:"Any status",all_targets:"All machines",audit_limit:"Showing the newest {count} entries: filter by member or device to see older ones.",confirm_block:"Block {name}? Nobody can start a session on it until it is unblocked.",confirm_delete_type:"Delete the machine type {name}?",confirm_maintenance:"Record maintenance done on {name}? Its maintenance counter starts again.",confirm_revoke:"Revoke {target} from {name}?",confirm_role_admin:"Make {name} a lab admin? Admins manage members, authorizations, devices and settings.",confirm_same_name:"There is already a member named {name}. Add another one?",error_conditions_json:"The maintenance conditions are not a valid JSON list.",field_required:"This field is required.",grant_count:"Grant ({count})",machines:"Machines (machine types or devices)",make_admin:"Make admin",new:"New",next:"Next",previous:"Previous",no_match:"Nothing matches.",no_sessions:"No sessions for these filters.",page_of:"Page {page} of {pages}",pick_member:"Pick a member.",pick_members:"Pick at least one member.",pick_targets:"Pick at least one machine type or device.",remove_pick:"Remove {name}",rows_of:"{first}–{last} of {total}",rows_per_page:"Rows per page",search:"Search",type_to_search:"Type to search",saved_member:"{name} saved.",deleted_member:"{name} deleted.",added_member:"{name} added.",granted:"{count} authorizations granted.",revoked:"Authorization revoked.",blocked_device:"{name} blocked.",unblocked_device:"{name} unblocked.",maintenance_recorded:"Maintenance recorded on {name}.",saved_type:"Machine type {name} saved.",assigned_card:"Card assigned to {name}.",renewed:"Authorization renewed.",error_unauthorized:"Your role does not allow this: ask a lab admin.",error_invalid:"Some values are not valid: check the form.",error_not_found:"It is no longer there: it may have been deleted meanwhile.",error_unavailable:"FluxiLab does not answer this: update the integration and reload the page.",error_failed:"That did not work. Try again, or ask a lab admin.",error_wrong_pin:"The current PIN is wrong.",error_pin_unchanged:"The new PIN must differ from the current one.",error_card_in_use:"This card already belongs to another member.",error_user_linked:"This Home Assistant user is already linked to another member.",error_cannot_delete_self:"You cannot delete your own member.",error_not_permitted:"Your role does not allow this: ask a lab admin.",error_invalid_period:"The period must start before it ends.",error_device_not_paired:"The device is not paired yet.",error_no_device_ui:"The device has no reachable web interface.",error_pin_change_locked:"Too many wrong current PINs: wait a little and try again.",kind_decision:"Access decision",kind_routing:"Opened the device UI",kind_maintenance:"Maintenance",kind_training:"Training",reason_granted:"Granted",reason_unknown_card:"Unknown card",reason_credential_inactive:"Card or PIN deactivated",reason_pin_change_required:"Initial PIN not yet replaced",reason_unknown_member:"Unknown member",reason_no_credential:"No card or PIN",reason_inactive:"Member not active",reason_not_authorized:"No authorization",reason_expired:"Authorization expired",reason_lapsed:"Authorization lapsed (unused)",reason_outside_hours:"Outside the allowed hours",reason_blocked:"Device blocked",reason_maintenance_due:"Maintenance due",reason_safety_limit:"Safety limit not met",reason_no_supervisor:"No supervisor present",reason_not_allowed:"Not allowed to record maintenance",reason_session_updated:"Session extended",reason_session_ended:"Session ended",reason_session_unknown:"Unknown session",reason_maintenance_recorded:"Maintenance recorded",reason_other:"Other reason",notify_phone:"Notify me on",notify_all_phones:"All my phones with the Home Assistant app ({phones})",last_hour:"{name}, last hour",open_blocked:"The browser blocked the new window.",open_link:"Open {name}",usage_per_week:"Usage hours per machine per week",usage_week_hours:"Week of {week}: {hours} h",book:"Book",card_no_device:"No FluxiLab device {device} you may see.",card_pick_device:"Choose a device",card_show_telemetry:"Show the telemetry"};var ht={title:"FluxiLab",presence:"Nel laboratorio",people_in_lab:"Persone nel laboratorio: {count}",nobody_in_lab:"Non c'è nessuno nel laboratorio.",since:"Da",where:"Dove",entrance:"entrato",print_list:"Stampa",check_in:"Registra ingresso",check_out:"Registra uscita",checkin_expiry_hours:"Gli ingressi scadono dopo (ore)",make_supervisor:"Rendi supervisore",remove_supervisor:"Non supervisore",trainer:"Formatore",trained_by:"formato da {name}",requires_supervisor:"Richiede un supervisore presente",supervisor_minutes:"Il supervisore vale per (minuti)",supervised_hours_start:"Uso senza supervisore dalle",supervised_hours_end:"Uso senza supervisore fino alle",training_expiry_days:"Le abilitazioni da formazione durano (giorni)",lab:"Laboratorio",profile:"Il mio profilo",admin:"Amministrazione",no_area:"Altre attrezzature",no_devices:"Non ci sono ancora attrezzature che puoi usare. Chiedi un'abilitazione a un amministratore del laboratorio.",not_linked:"Il tuo utente di Home Assistant non è collegato a un membro del laboratorio.",online:"In linea",offline:"Non in linea",in_use:"In uso",in_use_by:"In uso da {name}",free:"Libero",maintenance_due:"Manutenzione da fare",blocked:"Bloccato",not_paired:"Non abbinato",open:"Apri",opening:"Apertura…",open_refused:"L'indirizzo dell'interfaccia del dispositivo non è un indirizzo web: chiedi a un amministratore di verificarlo.",no_ui:"Nessuna interfaccia",gateway_certificate:"Impronta del certificato (SHA-256)",gateway_certificate_hint:"Se il browser avverte sul certificato di questo dispositivo, prosegui solo se mostra questa impronta.",hours_left:"{hours} h alla manutenzione",loading:"Caricamento…",member:"Membro",role:"Ruolo",role_admin:"Amministratore",role_staff:"Tecnico",role_user:"Utente",active:"Attivo",inactive:"Non attivo",cards:"Tessere",none:"Nessuna",authorizations:"Abilitazioni",expires:"Scadenza",never:"Mai",expired:"Scaduta",hours:"Orari",sessions:"Sessioni recenti",device:"Dispositivo",start:"Inizio",end:"Fine",duration:"Durata",open_session:"aperta",change_pin:"Cambia PIN / password dei dispositivi",pin_hint:"Almeno 6 caratteri. Si usa sul tastierino e nella pagina di accesso dei dispositivi.",current_pin:"PIN attuale",new_pin:"Nuovo PIN",repeat_pin:"Ripeti il nuovo PIN",save:"Salva",pin_mismatch:"I due nuovi PIN non coincidono.",pin_short:"Un PIN deve avere almeno 6 caratteri.",pin_changed:"Il PIN è stato cambiato.",pin_must_change:"Il tuo PIN è quello iniziale dato da un amministratore: non funziona sui dispositivi finché non lo sostituisci qui con uno tuo.",current_initial_pin:"PIN attuale (iniziale)",no_pin_yet:"Non hai ancora un PIN: chiedine uno a un amministratore (Ripristina PIN), poi sostituiscilo qui.",members:"Membri",devices:"Dispositivi",unknown_cards:"Tessere sconosciute",history:"Storico utilizzi",audit:"Registro eventi",name:"Nome",email:"E-mail",linked_user:"Utente Home Assistant",no_user:"Non collegato",card:"Tessera",initial_pin:"PIN iniziale",create_member:"Aggiungi membro",create:"Aggiungi",delete:"Elimina",confirm_delete:"Eliminare {name}? Il suo storico viene anonimizzato.",activate:"Attiva",deactivate:"Disattiva",grant:"Abilita",grant_to:"Abilita i membri",machine_type:"Tipo di macchina",revoke:"Revoca",block:"Blocca",unblock:"Sblocca",record_maintenance:"Manutenzione fatta",usage_hours:"Ore di utilizzo",seen_at:"Vista su",seen:"Vista",assign_to:"Assegna a",assign:"Assegna",filter:"Filtra",all:"Tutti",from:"Dal",to:"Al",download_csv:"Scarica CSV",time:"Ora",kind:"Evento",reason:"Motivo",done:"Fatto.",refresh:"Aggiorna",has_pin:"PIN impostato",no_pin:"Nessun PIN",target:"Per",status:"Stato",menu:"Menu",machine_types:"Tipi di macchina",settings:"Impostazioni",new_type:"Nuovo tipo di macchina",edit:"Modifica",session_timeout:"Scadenza sessione (s)",grace_period:"Tolleranza (s)",requires_authorization:"Richiede un'abilitazione",maintenance_interval:"Manutenzione ogni (ore di utilizzo)",maintenance_message:"Messaggio di manutenzione sul dispositivo",block_when_maintenance_due:"Blocca quando la manutenzione è da fare",offline_policy:"Senza l'hub (offline)",offline_default:"Predefinito: nega se ha limiti di sicurezza",offline_allow_mirrored:"Consenti i membri nella copia del dispositivo (le loro regole sono verificate lì)",offline_deny:"Nega a tutti",offline_max_age:"Offline al massimo per (ore senza l'hub)",busy_channel:"Occupata finché il canale",busy_above:"è sopra",busy_delay:"Libera dopo (s) sotto soglia",maintenance_conditions:"Condizioni di manutenzione (lista JSON)",busy:"In funzione (telemetria)",condition_progress:"{text}: {value} su {target}",safety_channel:"Interblocco di sicurezza: canale",safety_min:"minimo",safety_max:"massimo",safety:"Interblocco di sicurezza",retention:"Conservazione",usage_retention_days:"Conserva lo storico utilizzi (giorni)",unknown_card_retention_days:"Conserva le tessere sconosciute (giorni)",show_member_names:"Mostra i nomi dei membri nelle entità, nel registro e negli eventi (li vede ogni utente di Home Assistant; il registratore li conserva)",apply_retention:"Salva ed elimina",purged:"{count} voci anonimizzate, {cards} tessere sconosciute eliminate.",gdpr_export:"Esporta i dati di un membro (GDPR)",export:"Esporta",cancel:"Annulla",credentials:"Tessere e PIN",credentials_of:"Tessere e PIN di {name}",credential_label:"Etichetta",credential_type:"Tipo",type_card:"Tessera",type_pin:"PIN",last_used:"Ultimo uso",never_used:"Nessun uso",report_lost:"Segnala smarrimento",confirm_lost:"Disattivare {label}? I dispositivi la rifiutano subito; le altre tessere e il PIN continuano a funzionare. Un amministratore può riattivarla.",add_credential:"Aggiungi tessera",reset_pin:"Ripristina PIN",confirm_reset_pin:"Dare a {name} un nuovo PIN iniziale? Il PIN attuale smette subito di funzionare; quello nuovo è mostrato solo ora e non funziona su nessun dispositivo finché non viene sostituito.",pin_issued:"PIN iniziale di {name}: {pin} (mostrato solo ora). Consegnalo: va sostituito nel profilo prima di usarlo su un dispositivo.",must_change:"da cambiare",close:"Chiudi",notify_when_free:"Avvisami quando è libero",waiting_position:"Sarai avvisato (n. {position})",stop_waiting:"Non aspettare più",lapsing:"Decadenze",lapse_date:"Decade",lapsed:"Decaduta",lapse_cause_inactivity:"non usata",lapse_cause_expires:"scade",lapse_never:"Mai",renew:"Rinnova",lapsing_none:"Nessuna abilitazione decade entro {days} giorni.",lapsing_hint:"Abilitazioni non usate per i mesi del loro tipo di macchina, o in scadenza, entro {days} giorni. Rinnovare fa ripartire i mesi.",lapse_after_months:"Decade dopo mesi senza uso",notifications:"Notifiche",no_phones:"nessuno registrato",admin_notify_services:"Servizi di notifica degli amministratori (separati da virgole)",lapse_notice_days:"Preavviso di decadenza (giorni)",interest_expiry_hours:'"Avvisami quando è libero" attende al massimo (ore)',all_kinds:"Tutti gli eventi",all_roles:"Tutti i ruoli",all_statuses:"Qualsiasi stato",all_targets:"Tutte le macchine",audit_limit:"Sono mostrate le {count} voci più recenti: filtra per membro o dispositivo per vedere quelle più vecchie.",confirm_block:"Bloccare {name}? Nessuno può avviare una sessione finché non viene sbloccato.",confirm_delete_type:"Eliminare il tipo di macchina {name}?",confirm_maintenance:"Registrare la manutenzione fatta su {name}? Il contatore della manutenzione riparte.",confirm_revoke:"Revocare {target} a {name}?",confirm_role_admin:"Rendere {name} amministratore del laboratorio? Gli amministratori gestiscono membri, abilitazioni, dispositivi e impostazioni.",confirm_same_name:"Esiste già un membro di nome {name}. Aggiungerne un altro?",error_conditions_json:"Le condizioni di manutenzione non sono una lista JSON valida.",field_required:"Questo campo è obbligatorio.",grant_count:"Abilita ({count})",machines:"Macchine (tipi di macchina o dispositivi)",make_admin:"Rendi amministratore",new:"Nuova",next:"Successiva",previous:"Precedente",no_match:"Nessun risultato.",no_sessions:"Nessuna sessione per questi filtri.",page_of:"Pagina {page} di {pages}",pick_member:"Scegli un membro.",pick_members:"Scegli almeno un membro.",pick_targets:"Scegli almeno un tipo di macchina o un dispositivo.",remove_pick:"Togli {name}",rows_of:"{first}–{last} di {total}",rows_per_page:"Righe per pagina",search:"Cerca",type_to_search:"Scrivi per cercare",saved_member:"{name} salvato.",deleted_member:"{name} eliminato.",added_member:"{name} aggiunto.",granted:"{count} abilitazioni concesse.",revoked:"Abilitazione revocata.",blocked_device:"{name} bloccato.",unblocked_device:"{name} sbloccato.",maintenance_recorded:"Manutenzione registrata su {name}.",saved_type:"Tipo di macchina {name} salvato.",assigned_card:"Tessera assegnata a {name}.",renewed:"Abilitazione rinnovata.",error_unauthorized:"Il tuo ruolo non lo consente: chiedi a un amministratore del laboratorio.",error_invalid:"Alcuni valori non sono validi: controlla il modulo.",error_not_found:"Non c'è più: forse è stato eliminato nel frattempo.",error_unavailable:"FluxiLab non risponde a questa richiesta: aggiorna l'integrazione e ricarica la pagina.",error_failed:"Non ha funzionato. Riprova o chiedi a un amministratore del laboratorio.",error_wrong_pin:"Il PIN attuale è sbagliato.",error_pin_unchanged:"Il nuovo PIN deve essere diverso da quello attuale.",error_card_in_use:"Questa tessera appartiene già a un altro membro.",error_user_linked:"Questo utente di Home Assistant è già collegato a un altro membro.",error_cannot_delete_self:"Non puoi eliminare il tuo membro.",error_not_permitted:"Il tuo ruolo non lo consente: chiedi a un amministratore del laboratorio.",error_invalid_period:"Il periodo deve iniziare prima di finire.",error_device_not_paired:"Il dispositivo non è ancora abbinato.",error_no_device_ui:"Il dispositivo non ha un'interfaccia web raggiungibile.",error_pin_change_locked:"Troppi PIN attuali sbagliati: attendi un po' e riprova.",kind_decision:"Decisione di accesso",kind_routing:"Interfaccia del dispositivo aperta",kind_maintenance:"Manutenzione",kind_training:"Formazione",reason_granted:"Consentito",reason_unknown_card:"Tessera sconosciuta",reason_credential_inactive:"Tessera o PIN disattivati",reason_pin_change_required:"PIN iniziale non ancora sostituito",reason_unknown_member:"Membro sconosciuto",reason_no_credential:"Nessuna tessera o PIN",reason_inactive:"Membro non attivo",reason_not_authorized:"Nessuna abilitazione",reason_expired:"Abilitazione scaduta",reason_lapsed:"Abilitazione decaduta (non usata)",reason_outside_hours:"Fuori dagli orari consentiti",reason_blocked:"Dispositivo bloccato",reason_maintenance_due:"Manutenzione da fare",reason_safety_limit:"Limite di sicurezza non rispettato",reason_no_supervisor:"Nessun supervisore presente",reason_not_allowed:"Non autorizzato a registrare la manutenzione",reason_session_updated:"Sessione prolungata",reason_session_ended:"Sessione terminata",reason_session_unknown:"Sessione sconosciuta",reason_maintenance_recorded:"Manutenzione registrata",reason_other:"Altro motivo",notify_phone:"Avvisami su",notify_all_phones:"Tutti i miei telefoni con l'app di Home Assistant ({phones})",last_hour:"{name}, ultima ora",open_blocked:"Il browser ha bloccato la nuova finestra.",open_link:"Apri {name}",usage_per_week:"Ore di utilizzo per macchina e settimana",usage_week_hours:"Settimana del {week}: {hours} h",book:"Prenota",card_no_device:"Nessun dispositivo FluxiLab {device} visibile per te.",card_pick_device:"Scegli un dispositivo",card_show_telemetry:"Mostra la telemetria"};var Jt={en:pe,it:ht},Z=class extends Error{constructor(e,s){super(e);this.key=e;this.field=s}},Qt={unauthorized:"error_unauthorized",invalid_format:"error_invalid",not_found:"error_not_found",unknown_command:"error_unavailable",not_allowed:"error_unauthorized"},M=class{constructor(t,e=null){this.exceptions=e;this.language=t.locale?.language||t.language||"en",this.table=Jt[this.language.split("-")[0]]??pe}t(t,e={}){let s=this.table[t]??pe[t]??t;for(let[i,n]of Object.entries(e))s=s.split(`{${i}}`).join(String(n));return s}maybe(t){return t in pe?this.t(t):null}when(t){if(t==null||t==="")return"";let e=typeof t=="number"?new Date(t*1e3):new Date(t);return Number.isNaN(e.getTime())?String(t):e.toLocaleString(this.language,{dateStyle:"short",timeStyle:"short"})}day(t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?t:e.toLocaleDateString(this.language,{dateStyle:"medium"})}number(t){return typeof t=="boolean"?t?"✔":"✘":typeof t=="string"?t:typeof t!="number"?"—":t.toLocaleString(this.language,{maximumFractionDigits:2})}duration(t){if(typeof t!="number")return"";let e=Math.round(t/60);return e<60?`${e} min`:`${Math.floor(e/60)} h ${e%60} min`}reason(t){return t?this.maybe(`reason_${t}`)??this.t("reason_other"):""}kind(t){let e=t.replace(/_/g," ");return this.maybe(`kind_${t}`)??e.charAt(0).toLocaleUpperCase(this.language)+e.slice(1)}static errorField(t){if(t instanceof Z)return t.field;let e=t?.message,s=typeof e=="string"?/at '([a-z_]+)'/.exec(e):null;return s?s[1]:void 0}error(t){if(t instanceof Z)return this.t(t.key);let e=t??{};if(e.translation_key&&e.translation_domain==="fluxilab"){let s=this.maybe(`error_${e.translation_key}`),i=`component.fluxilab.exceptions.${e.translation_key}.message`,n=this.exceptions?.(i,e.translation_placeholders??{});if(n&&n!==i)return n;if(s)return s}return this.t(Qt[e.code??""]??"error_failed")}};async function bt(a){if(!a.loadBackendTranslation)return null;try{return await a.loadBackendTranslation("exceptions","fluxilab")}catch{return null}}var ft=ne`
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
  form, .form { display: grid; gap: 10px; max-width: 560px; }
  form.inline, .inline { display: flex; flex-wrap: wrap; align-items: end; gap: 10px; max-width: none; }
  label, .field-label { display: grid; gap: 4px; font-size: 13px; color: var(--secondary-text-color); }
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
`;var $=class extends S{createRenderRoot(){return this}t(t,e){return this.ctx.i18n.t(t,e)}};p([g({attribute:!1})],$.prototype,"ctx",2);async function v(a,t,e,{quiet:s=!1}={}){a.busyKeys.add(t),a.requestUpdate();try{return await e()}catch(i){if(s||a.ctx.fail(i),s)throw i;return}finally{a.busyKeys.delete(t),a.requestUpdate()}}function X(a,t,e){let s=new Blob([a],{type:e}),i=document.createElement("a");i.href=URL.createObjectURL(s),i.download=t,document.body.appendChild(i),i.click(),i.remove(),setTimeout(()=>URL.revokeObjectURL(i.href),1e4)}function z(a,t){return t?a?.members.find(e=>e.id===t)?.name??t:"—"}function T(a,t){return t?a?.devices.find(e=>e.device_id===t)?.name??t:"—"}function x(a,t){let e=a.get(t);return typeof e=="string"?e:""}var _t={ATTRIBUTE:1,CHILD:2,PROPERTY:3,BOOLEAN_ATTRIBUTE:4,EVENT:5,ELEMENT:6},Ee=a=>(...t)=>({_$litDirective$:a,values:t}),V=class{constructor(t){}get _$AU(){return this._$AM._$AU}_$AT(t,e,s){this._$Ct=t,this._$AM=e,this._$Ci=s}_$AS(t,e){return this.update(t,e)}update(t,e){return this.render(...e)}};var{I:Zt}=ut,vt=a=>a;var gt=()=>document.createComment(""),ee=(a,t,e)=>{let s=a._$AA.parentNode,i=t===void 0?a._$AB:t._$AA;if(e===void 0){let n=s.insertBefore(gt(),i),r=s.insertBefore(gt(),i);e=new Zt(n,r,a,a.options)}else{let n=e._$AB.nextSibling,r=e._$AM,c=r!==a;if(c){let l;e._$AQ?.(a),e._$AM=a,e._$AP!==void 0&&(l=a._$AU)!==r._$AU&&e._$AP(l)}if(n!==i||c){let l=e._$AA;for(;l!==n;){let d=vt(l).nextSibling;vt(s).insertBefore(l,i),l=d}}}return e},D=(a,t,e=a)=>(a._$AI(t,e),a),Xt={},Te=(a,t=Xt)=>a._$AH=t,yt=a=>a._$AH,Pe=a=>{a._$AR(),a._$AA.remove()};var $t=(a,t,e)=>{let s=new Map;for(let i=t;i<=e;i++)s.set(a[i],i);return s},xt=Ee(class extends V{constructor(a){if(super(a),a.type!==_t.CHILD)throw Error("repeat() can only be used in text expressions")}dt(a,t,e){let s;e===void 0?e=t:t!==void 0&&(s=t);let i=[],n=[],r=0;for(let c of a)i[r]=s?s(c,r):r,n[r]=e(c,r),r++;return{values:n,keys:i}}render(a,t,e){return this.dt(a,t,e).values}update(a,[t,e,s]){let i=yt(a),{values:n,keys:r}=this.dt(t,e,s);if(!Array.isArray(i))return this.ut=r,n;let c=this.ut??=[],l=[],d,h,u=0,f=i.length-1,_=0,w=n.length-1;for(;u<=f&&_<=w;)if(i[u]===null)u++;else if(i[f]===null)f--;else if(c[u]===r[_])l[_]=D(i[u],n[_]),u++,_++;else if(c[f]===r[w])l[w]=D(i[f],n[w]),f--,w--;else if(c[u]===r[w])l[w]=D(i[u],n[w]),ee(a,l[w+1],i[u]),u++,w--;else if(c[f]===r[_])l[_]=D(i[f],n[_]),ee(a,i[u],i[f]),f--,_++;else if(d===void 0&&(d=$t(r,_,w),h=$t(c,u,f)),d.has(c[u]))if(d.has(c[f])){let A=h.get(r[_]),Me=A!==void 0?i[A]:null;if(Me===null){let Ye=ee(a,i[u]);D(Ye,n[_]),l[_]=Ye}else l[_]=D(Me,n[_]),ee(a,i[u],Me),i[A]=null;_++}else Pe(i[f]),f--;else Pe(i[u]),u++;for(;_<=w;){let A=ee(a,l[w+1]);D(A,n[_]),l[_++]=A}for(;u<=f;){let A=i[u++];A!==null&&Pe(A)}return this.ut=r,Te(a,l),R}});var wt=[10,25,50,100],k=class extends S{constructor(){super(...arguments);this.rows=[];this.columns=[];this.rowKey=e=>String(e);this.searchText=()=>"";this.name="";this.empty="";this.pageSize=25;this.sortKey="";this.sortDescending=!1;this.query="";this.page=0}createRenderRoot(){return this}showRow(e){let s=this.visible().findIndex(i=>this.rowKey(i)===e);s>=0&&(this.page=Math.floor(s/this.pageSize))}visible(){let e=this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean),s=e.length?this.rows.filter(n=>{let r=this.searchText(n).toLocaleLowerCase();return e.every(c=>r.includes(c))}):this.rows.slice(),i=this.columns.find(n=>n.key===this.sortKey&&n.sort);if(i?.sort){let n=i.sort,r=new Intl.Collator(this.i18n.language,{numeric:!0,sensitivity:"base"});s=s.sort((c,l)=>{let d=n(c),h=n(l),u=typeof d=="number"&&typeof h=="number"?d-h:r.compare(String(d),String(h));return this.sortDescending?-u:u})}return s}sortBy(e){this.sortKey===e?this.sortDescending=!this.sortDescending:(this.sortKey=e,this.sortDescending=!1)}render(){let e=this.i18n.t.bind(this.i18n),s=this.visible(),i=Math.max(1,Math.ceil(s.length/this.pageSize)),n=Math.min(this.page,i-1),r=s.slice(n*this.pageSize,(n+1)*this.pageSize),c=s.length?n*this.pageSize+1:0,l=n*this.pageSize+r.length;return o`
      <div class="table-toolbar">
        <input
          class="search"
          type="search"
          name="search"
          aria-label=${e("search")}
          placeholder=${e("search")}
          .value=${this.query}
          @input=${d=>{this.query=d.target.value,this.page=0}}
        />
        ${this.filters??m}
        <span class="muted count" data-count=${s.length}
          >${e("rows_of",{first:c,last:l,total:s.length})}</span
        >
      </div>
      ${s.length?o`<table class="data-table" data-table=${this.name}>
            <thead>
              <tr>
                ${this.columns.map(d=>d.sort?o`<th
                        aria-sort=${this.sortKey===d.key?this.sortDescending?"descending":"ascending":"none"}
                      >
                        <button class="sort" data-sort=${d.key} @click=${()=>this.sortBy(d.key)}>
                          ${d.title}${this.sortKey===d.key?this.sortDescending?" ▼":" ▲":""}
                        </button>
                      </th>`:o`<th>${d.title}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${xt(r,d=>this.rowKey(d),d=>o`<tr data-key=${this.rowKey(d)}>
                    ${this.columns.map(h=>o`<td class=${h.className??""} data-label=${h.title}>${h.render(d)}</td>`)}
                  </tr>
                  ${this.expanded?this.expanded(d):m}`)}
            </tbody>
          </table>`:o`<p class="muted empty">${this.query?e("no_match"):this.empty||e("none")}</p>`}
      ${i>1||s.length>wt[0]?o`<div class="pager">
            <label class="inline-label"
              >${e("rows_per_page")}
              <select
                name="page_size"
                @change=${d=>{this.pageSize=Number(d.target.value),this.page=0}}
              >
                ${wt.map(d=>o`<option value=${d} ?selected=${d===this.pageSize}>${d}</option>`)}
              </select></label
            >
            <button class="secondary" data-page="previous" ?disabled=${n===0} @click=${()=>this.page=n-1}>
              ‹ ${e("previous")}
            </button>
            <span class="muted">${e("page_of",{page:n+1,pages:i})}</span>
            <button
              class="secondary"
              data-page="next"
              ?disabled=${n>=i-1}
              @click=${()=>this.page=n+1}
            >
              ${e("next")} ›
            </button>
          </div>`:m}
    `}};p([g({attribute:!1})],k.prototype,"rows",2),p([g({attribute:!1})],k.prototype,"columns",2),p([g({attribute:!1})],k.prototype,"rowKey",2),p([g({attribute:!1})],k.prototype,"searchText",2),p([g({attribute:!1})],k.prototype,"expanded",2),p([g({attribute:!1})],k.prototype,"filters",2),p([g({attribute:!1})],k.prototype,"i18n",2),p([g()],k.prototype,"name",2),p([g()],k.prototype,"empty",2),p([g({type:Number})],k.prototype,"pageSize",2),p([g()],k.prototype,"sortKey",2),p([g({type:Boolean})],k.prototype,"sortDescending",2),p([b()],k.prototype,"query",2),p([b()],k.prototype,"page",2),k=p([y("fluxilab-data-table")],k);var Vt=8,E=class extends S{constructor(){super(...arguments);this.items=[];this.value=[];this.multiple=!1;this.label="";this.name="";this.placeholder="";this.error="";this.query="";this.focused=!1}createRenderRoot(){return this}found(){let e=this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean),s=new Set(this.value);return this.items.filter(i=>!s.has(i.id)).filter(i=>{let n=`${i.label} ${i.sub??""} ${i.id}`.toLocaleLowerCase();return e.every(r=>n.includes(r))}).slice(0,Vt)}set(e){this.value=e,this.dispatchEvent(new CustomEvent("change",{detail:e,bubbles:!0}))}pick(e){this.set(this.multiple?[...this.value,e.id]:[e.id]),this.query="",this.multiple||(this.focused=!1),this.querySelector("input")?.focus()}clear(){this.query="",this.set([])}render(){let e=this.i18n.t.bind(this.i18n),s=new Map(this.items.map(n=>[n.id,n])),i=this.focused||this.query?this.found():[];return o`<div class="picker ${this.error?"invalid":""}" data-picker=${this.name}>
      <label class="field-label" for="picker-${this.name}">${this.label}</label>
      ${this.value.length?o`<div class="chips picked">
            ${this.value.map(n=>o`<span class="chip pick" data-picked=${n}
                >${s.get(n)?.label??n}
                <button
                  type="button"
                  class="chip-remove"
                  aria-label=${e("remove_pick",{name:s.get(n)?.label??n})}
                  @click=${()=>this.set(this.value.filter(r=>r!==n))}
                >
                  ×
                </button></span
              >`)}
          </div>`:m}
      <input
        id="picker-${this.name}"
        type="search"
        name=${this.name}
        autocomplete="off"
        role="combobox"
        aria-expanded=${i.length>0}
        aria-invalid=${this.error?"true":"false"}
        placeholder=${this.placeholder||e("type_to_search")}
        .value=${this.query}
        @input=${n=>this.query=n.target.value}
        @focus=${()=>this.focused=!0}
        @blur=${()=>setTimeout(()=>this.focused=!1,200)}
        @keydown=${n=>{if(n.key==="Enter"){n.preventDefault();let[r]=this.found();r&&this.pick(r)}}}
      />
      ${i.length?o`<ul class="options" role="listbox">
            ${i.map(n=>o`<li
                role="option"
                data-option=${n.id}
                @mousedown=${r=>r.preventDefault()}
                @click=${()=>this.pick(n)}
              >
                ${n.label}${n.sub?o` <span class="muted">${n.sub}</span>`:m}
              </li>`)}
          </ul>`:this.query?o`<div class="muted options-empty">${e("no_match")}</div>`:m}
      ${this.error?o`<div class="field-error" role="alert">${this.error}</div>`:m}
    </div>`}};p([g({attribute:!1})],E.prototype,"items",2),p([g({attribute:!1})],E.prototype,"value",2),p([g({attribute:!1})],E.prototype,"i18n",2),p([g({type:Boolean})],E.prototype,"multiple",2),p([g()],E.prototype,"label",2),p([g()],E.prototype,"name",2),p([g()],E.prototype,"placeholder",2),p([g()],E.prototype,"error",2),p([b()],E.prototype,"query",2),p([b()],E.prototype,"focused",2),E=p([y("fluxilab-picker")],E);var Be=500,O=class extends ${constructor(){super(...arguments);this.entries=null;this.member="";this.device="";this.kind="";this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){let e=await v(this,"audit",()=>this.ctx.client.audit({limit:Be,...this.member?{member_id:this.member}:{},...this.device?{device_id:this.device}:{}}));e&&(this.entries=e.audit.map((s,i)=>({...s,n:i})))}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=this.ctx.i18n,i=this.entries??[],n=[...new Set(i.map(d=>d.kind))],r=d=>d.member_id?z(e,d.member_id):e.users.find(h=>h.id===d.user_id)?.name??"—",c=[{key:"ts",title:this.t("time"),sort:d=>d.ts,render:d=>s.when(d.ts)},{key:"kind",title:this.t("kind"),sort:d=>s.kind(d.kind),render:d=>s.kind(d.kind)},{key:"device",title:this.t("device"),sort:d=>T(e,d.device_id),render:d=>T(e,d.device_id)},{key:"member",title:this.t("member"),sort:r,render:r},{key:"reason",title:this.t("reason"),sort:d=>s.reason(d.reason),render:d=>s.reason(d.reason)}],l=()=>{this.load()};return o`
      <div class="inline filters">
        <fluxilab-picker
          name="member_id"
          .i18n=${s}
          label=${this.t("member")}
          placeholder=${this.t("all")}
          .items=${e.members.map(d=>({id:d.id,label:d.name}))}
          .value=${this.member?[this.member]:[]}
          @change=${d=>{this.member=d.target.value[0]??"",l()}}
        ></fluxilab-picker>
        <fluxilab-picker
          name="device_id"
          .i18n=${s}
          label=${this.t("device")}
          placeholder=${this.t("all")}
          .items=${e.devices.map(d=>({id:d.device_id,label:d.name,sub:d.device_id}))}
          .value=${this.device?[this.device]:[]}
          @change=${d=>{this.device=d.target.value[0]??"",l()}}
        ></fluxilab-picker>
        <div class="actions">
          <button class="secondary" data-action="audit-refresh" ?disabled=${this.busyKeys.has("audit")} @click=${l}>
            ${this.t("refresh")}
          </button>
        </div>
      </div>
      ${this.entries?o`<fluxilab-data-table
            name="audit"
            .i18n=${s}
            .rows=${i.filter(d=>!this.kind||d.kind===this.kind)}
            .columns=${c}
            sortKey="ts"
            sortDescending
            .rowKey=${d=>String(d.n)}
            .searchText=${d=>`${r(d)} ${T(e,d.device_id)} ${s.kind(d.kind)} ${s.reason(d.reason)}`}
            .filters=${o`<select
              name="kind_filter"
              aria-label=${this.t("kind")}
              @change=${d=>this.kind=d.target.value}
            >
              <option value="">${this.t("all_kinds")}</option>
              ${n.map(d=>o`<option value=${d}>${s.kind(d)}</option>`)}
            </select>`}
          ></fluxilab-data-table>
          ${i.length>=Be?o`<p class="muted">${this.t("audit_limit",{count:Be})}</p>`:m}`:o`<p class="muted">${this.t("loading")}</p>`}
    `}};p([b()],O.prototype,"entries",2),p([b()],O.prototype,"member",2),p([b()],O.prototype,"device",2),p([b()],O.prototype,"kind",2),O=p([y("fluxilab-audit-view")],O);function ze(a,t){return t.machine_type_id?a.machine_types.find(e=>e.id===t.machine_type_id)?.name??t.machine_type_id:a.devices.find(e=>e.device_id===t.device_id)?.name??t.device_id??"—"}function ei(a){return a.machine_type_id?`type:${a.machine_type_id}`:`device:${a.device_id}`}function ti(a,t){return[...a.machine_types.map(e=>({id:`type:${e.id}`,label:e.name,sub:t("machine_type")})),...a.devices.map(e=>({id:`device:${e.device_id}`,label:e.name,sub:`${t("device")} · ${e.device_id}`}))]}var I=class extends ${constructor(){super(...arguments);this.members=[];this.targets=[];this.targetFilter="";this.errors={};this.fresh=new Set;this.busyKeys=new Set}async revoke(e,s){!await this.ctx.confirm({text:this.t("confirm_revoke",{name:z(s,e.member_id),target:ze(s,e)}),action:this.t("revoke"),danger:!0})||await v(this,`revoke:${e.id}`,()=>this.ctx.client.revoke(e.id))===void 0||(this.ctx.done("revoked"),await this.ctx.reloadAdmin())}async grant(e){e.preventDefault();let s=e.target,i=new FormData(s),n={};if(this.members.length||(n.member_ids=this.t("pick_members")),this.targets.length||(n.target=this.t("pick_targets")),this.errors=n,Object.keys(n).length)return;let r=x(i,"expires"),c=i.has("trainer"),l=[];try{await v(this,"grant",async()=>{for(let d of this.targets){let[h,u]=d.split(/:(.*)/s),f=await this.ctx.client.grant({member_ids:this.members,...h==="type"?{machine_type_id:u}:{device_id:u},...r?{expires:`${r}T23:59:59`}:{},...c?{trainer:!0}:{}});l.push(...f.authorization_ids)}},{quiet:!0})}catch(d){this.errors={form:this.ctx.i18n.error(d)},l.length&&await this.ctx.reloadAdmin();return}this.fresh=new Set(l),this.members=[],this.targets=[],s.reset(),this.ctx.done("granted",{count:l.length}),await this.ctx.reloadAdmin()}error(e){let s=this.errors[e];return s?o`<span class="field-error" role="alert" data-error=${e}>${s}</span>`:m}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=this.ctx.i18n,n=ti(e,l=>this.t(l)),r=e.authorizations.filter(l=>!this.targetFilter||ei(l)===this.targetFilter).slice().reverse(),c=[{key:"member",title:this.t("member"),sort:l=>z(e,l.member_id),render:l=>o`${z(e,l.member_id)}${this.fresh.has(l.id)?o` <span class="chip ok">${this.t("new")}</span>`:m}`},{key:"target",title:this.t("target"),sort:l=>ze(e,l),render:l=>o`${ze(e,l)}
          ${l.trainer?o`<span class="chip info">${this.t("trainer")}</span>`:m}
          ${l.granted_by?o`<span class="muted">${this.t("trained_by",{name:z(e,l.granted_by)})}</span>`:m}`},{key:"expires",title:this.t("expires"),sort:l=>l.expires??"9999",render:l=>l.expires?s.day(l.expires):this.t("never")},{key:"actions",title:"",className:"actions",render:l=>o`<button
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
        .i18n=${s}
        .rows=${r}
        .columns=${c}
        .rowKey=${l=>l.id}
        .searchText=${l=>`${z(e,l.member_id)} ${l.member_id} ${ze(e,l)}`}
        .filters=${o`<select
          name="target_filter"
          aria-label=${this.t("target")}
          @change=${l=>this.targetFilter=l.target.value}
        >
          <option value="">${this.t("all_targets")}</option>
          ${n.map(l=>o`<option value=${l.id}>${l.label} (${l.sub})</option>`)}
        </select>`}
      ></fluxilab-data-table>
      <h2>${this.t("grant_to")}</h2>
      <form data-form="grant" class="card" novalidate @submit=${l=>{this.grant(l)}}>
        <fluxilab-picker
          multiple
          name="member_ids"
          .i18n=${s}
          label=${this.t("members")}
          .items=${e.members.map(l=>({id:l.id,label:l.name,sub:l.email??void 0}))}
          .value=${this.members}
          error=${this.errors.member_ids??""}
          @change=${l=>{this.members=l.target.value,this.errors={...this.errors,member_ids:""}}}
        ></fluxilab-picker>
        <fluxilab-picker
          multiple
          name="target"
          .i18n=${s}
          label=${this.t("machines")}
          .items=${n}
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
    `}};p([b()],I.prototype,"members",2),p([b()],I.prototype,"targets",2),p([b()],I.prototype,"targetFilter",2),p([b()],I.prototype,"errors",2),p([b()],I.prototype,"fresh",2),I=p([y("fluxilab-authorizations-view")],I);var ue=class extends ${constructor(){super(...arguments);this.statusFilter="";this.busyKeys=new Set}async block(e){let s=!e.blocked;s&&!await this.ctx.confirm({text:this.t("confirm_block",{name:e.name}),action:this.t("block"),danger:!0})||await v(this,`block:${e.device_id}`,()=>this.ctx.client.block(e.device_id,s))===void 0||(this.ctx.done(s?"blocked_device":"unblocked_device",{name:e.name}),await this.ctx.reloadAdmin())}async maintenance(e){!await this.ctx.confirm({text:this.t("confirm_maintenance",{name:e.name}),action:this.t("record_maintenance")})||await v(this,`maint:${e.device_id}`,()=>this.ctx.client.recordMaintenance(e.device_id))===void 0||(this.ctx.done("maintenance_recorded",{name:e.name}),await this.ctx.reloadAdmin())}shows(e){switch(this.statusFilter){case"online":return e.online;case"offline":return!e.online;case"blocked":return e.blocked;case"maintenance_due":return e.maintenance_due;default:return!0}}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=this.ctx.i18n,i=[{key:"name",title:this.t("device"),sort:n=>n.name,render:n=>o`${n.name}<div class="muted">${n.device_id}${n.machine_type?` · ${n.machine_type}`:""}</div>`},{key:"status",title:this.t("status"),sort:n=>Number(n.online)*4+ +!n.blocked*2+ +!n.maintenance_due,render:n=>o`<span class="chip ${n.online?"ok":"bad"}">${n.online?this.t("online"):this.t("offline")}</span>
          ${n.blocked?o`<span class="chip bad">${this.t("blocked")}</span>`:m}
          ${n.maintenance_due?o`<span class="chip warn">${this.t("maintenance_due")}</span>`:m}`},{key:"usage",title:this.t("usage_hours"),sort:n=>n.usage_hours??0,render:n=>o`${s.number(n.usage_hours)}${typeof n.hours_to_maintenance=="number"?o` <span class="muted">(${this.t("hours_left",{hours:s.number(n.hours_to_maintenance)})})</span>`:m}`},{key:"actions",title:"",className:"actions",render:n=>o`<button
            class=${n.blocked?"secondary":"danger"}
            data-action="block"
            data-device=${n.device_id}
            data-blocked=${String(!n.blocked)}
            ?disabled=${this.busyKeys.has(`block:${n.device_id}`)}
            @click=${()=>{this.block(n)}}
          >
            ${n.blocked?this.t("unblock"):this.t("block")}
          </button>
          <button
            class="secondary"
            data-action="maintenance"
            data-device=${n.device_id}
            ?disabled=${this.busyKeys.has(`maint:${n.device_id}`)}
            @click=${()=>{this.maintenance(n)}}
          >
            ${this.t("record_maintenance")}
          </button>`}];return o`<fluxilab-data-table
      name="devices"
      .i18n=${s}
      .rows=${e.devices.filter(n=>this.shows(n))}
      .columns=${i}
      sortKey="name"
      .rowKey=${n=>n.device_id}
      .searchText=${n=>`${n.name} ${n.device_id} ${n.machine_type??""} ${n.area??""}`}
      .filters=${o`<select
        name="status_filter"
        aria-label=${this.t("status")}
        @change=${n=>this.statusFilter=n.target.value}
      >
        <option value="">${this.t("all_statuses")}</option>
        ${["online","offline","blocked","maintenance_due"].map(n=>o`<option value=${n}>${this.t(n)}</option>`)}
      </select>`}
    ></fluxilab-data-table>`}};p([b()],ue.prototype,"statusFilter",2),ue=p([y("fluxilab-devices-view")],ue);function kt(a){if(a==null||a==="")return null;let t=typeof a=="number"?a*1e3:new Date(a).getTime();return Number.isFinite(t)?t:null}function ii(a){let t=new Date(a.getFullYear(),a.getMonth(),a.getDate());return t.setDate(t.getDate()-(t.getDay()+6)%7),t}function St(a,t=8,e=new Date){let s=ii(e),i=[];for(let l=t-1;l>=0;l--){let d=new Date(s);d.setDate(d.getDate()-7*l),i.push(d)}let n=i.map((l,d)=>[l.getTime(),d+1<i.length?i[d+1].getTime():l.getTime()+6048e5]),r=new Map;for(let l of a){let d=kt(l.start);if(d===null)continue;let h=kt(l.end)??(typeof l.duration=="number"?d+l.duration*1e3:Math.max(d,e.getTime())),u=r.get(l.device_id)??new Array(t).fill(0);n.forEach(([f,_],w)=>{let A=Math.min(h,_)-Math.max(d,f);A>0&&(u[w]+=A/36e5)}),r.set(l.device_id,u)}let c=[...r.entries()].map(([l,d])=>({device_id:l,hours:d})).filter(l=>l.hours.some(d=>d>0)).sort((l,d)=>d.hours.reduce((h,u)=>h+u,0)-l.hours.reduce((h,u)=>h+u,0));return{weeks:i,rows:c}}var si=8,q=class extends ${constructor(){super(...arguments);this.result=null;this.member="";this.device="";this.error="";this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(e){let s=e?new FormData(e):null,i={};this.member&&(i.member_id=this.member),this.device&&(i.device_id=this.device);let n=s?x(s,"start"):"",r=s?x(s,"end"):"";n&&(i.start=`${n}T00:00:00`),r&&(i.end=`${r}T23:59:59`);try{this.result=await v(this,"history",()=>this.ctx.client.history(i),{quiet:!0})??null,this.error=""}catch(c){this.error=this.ctx.i18n.error(c)}}usage(e){let{weeks:s,rows:i}=St(e,si);if(!i.length)return m;let n=this.ctx.i18n,r=Math.max(...i.flatMap(l=>l.hours),1),c=l=>l.toLocaleDateString(n.language,{day:"numeric",month:"short"});return o`<section class="card usage" data-chart="weekly-usage">
      <h3>${this.t("usage_per_week")}</h3>
      <div class="table-wrap">
        <table class="usage-chart">
          <tr>
            <th>${this.t("device")}</th>
            ${s.map(l=>o`<th>${c(l)}</th>`)}
          </tr>
          ${i.map(l=>o`<tr data-device=${l.device_id}>
                <td>${T(this.ctx.admin,l.device_id)}</td>
                ${l.hours.map((d,h)=>o`<td
                      title=${this.t("usage_week_hours",{week:c(s[h]),hours:n.number(d)})}
                    >
                      <div class="bar" style="height: ${Math.round(d/r*40)}px"></div>
                      <span class="muted">${d?n.number(Math.round(d*10)/10):""}</span>
                    </td>`)}
              </tr>`)}
        </table>
      </div>
    </section>`}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=this.ctx.i18n,i=r=>r.member_name||e.members.find(c=>c.id===r.member_id)?.name||r.member_id||"—",n=[{key:"member",title:this.t("member"),sort:i,render:i},{key:"device",title:this.t("device"),sort:r=>T(e,r.device_id),render:r=>T(e,r.device_id)},{key:"start",title:this.t("start"),sort:r=>new Date(r.start).getTime()||Number(r.start),render:r=>s.when(r.start)},{key:"end",title:this.t("end"),render:r=>r.end?s.when(r.end):this.t("open_session")},{key:"duration",title:this.t("duration"),sort:r=>r.duration??0,render:r=>s.duration(r.duration)}];return o`
      <form
        data-form="history"
        class="inline filters"
        novalidate
        @submit=${r=>{r.preventDefault(),this.load(r.target)}}
      >
        <fluxilab-picker
          name="member_id"
          .i18n=${s}
          label=${this.t("member")}
          placeholder=${this.t("all")}
          .items=${e.members.map(r=>({id:r.id,label:r.name}))}
          .value=${this.member?[this.member]:[]}
          @change=${r=>this.member=r.target.value[0]??""}
        ></fluxilab-picker>
        <fluxilab-picker
          name="device_id"
          .i18n=${s}
          label=${this.t("device")}
          placeholder=${this.t("all")}
          .items=${e.devices.map(r=>({id:r.device_id,label:r.name,sub:r.device_id}))}
          .value=${this.device?[this.device]:[]}
          @change=${r=>this.device=r.target.value[0]??""}
        ></fluxilab-picker>
        <label>${this.t("from")}<input type="date" name="start" /></label>
        <label>${this.t("to")}<input type="date" name="end" /></label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("history")}>${this.t("filter")}</button>
          ${this.result?o`<button
                class="secondary"
                type="button"
                data-action="csv"
                @click=${()=>this.result&&X(this.result.csv,"fluxilab-usage.csv","text/csv")}
              >
                ${this.t("download_csv")}
              </button>`:m}
          ${this.error?o`<span class="field-error" role="alert">${this.error}</span>`:m}
        </div>
      </form>
      ${this.result?this.usage(this.result.sessions):m}
      ${this.result?o`<fluxilab-data-table
            name="history"
            .i18n=${s}
            .rows=${this.result.sessions}
            .columns=${n}
            sortKey="start"
            sortDescending
            empty=${this.t("no_sessions")}
            .rowKey=${r=>r.session_id??`${r.device_id}:${r.start}`}
            .searchText=${r=>`${i(r)} ${T(e,r.device_id)} ${r.device_id}`}
          ></fluxilab-data-table>`:o`<p class="muted">${this.t("loading")}</p>`}
    `}};p([b()],q.prototype,"result",2),p([b()],q.prototype,"member",2),p([b()],q.prototype,"device",2),p([b()],q.prototype,"error",2),q=p([y("fluxilab-history-view")],q);function Ce(a,t,e){let s=a.t.bind(a);return t.length?o`<div class="table-wrap">
    <table class="credentials">
      <tr>
        <th>${s("credential_label")}</th>
        <th>${s("credential_type")}</th>
        <th>${s("card")}</th>
        <th>${s("status")}</th>
        <th>${s("last_used")}</th>
        <th></th>
      </tr>
      ${t.map(i=>o`<tr data-credential=${i.id}>
          <td data-label=${s("credential_label")}>${i.label}</td>
          <td data-label=${s("credential_type")}>${i.type==="pin"?s("type_pin"):s("type_card")}</td>
          <td data-label=${s("card")}>${i.card??""}</td>
          <td data-label=${s("status")}>
            <span class="chip ${i.active?"":"bad"}">${i.active?s("active"):s("inactive")}</span>
            ${i.must_change?o`<span class="chip warn">${s("must_change")}</span>`:m}
          </td>
          <td data-label=${s("last_used")}>${i.last_used?a.when(i.last_used):s("never_used")}</td>
          <td class="actions">
            ${e.admin?o`<button
                    class="secondary"
                    data-action="credential-toggle"
                    data-credential=${i.id}
                    data-active=${String(!i.active)}
                    ?disabled=${e.busy(i.id)}
                    @click=${()=>e.toggle?.(i)}
                  >
                    ${i.active?s("deactivate"):s("activate")}
                  </button>
                  <button
                    class="danger"
                    data-action="credential-remove"
                    data-credential=${i.id}
                    ?disabled=${e.busy(i.id)}
                    @click=${()=>e.remove?.(i)}
                  >
                    ${s("delete")}
                  </button>`:i.active&&i.type==="card"?o`<button
                    class="danger"
                    data-action="credential-lost"
                    data-credential=${i.id}
                    ?disabled=${e.busy(i.id)}
                    @click=${()=>e.lost?.(i)}
                  >
                    ${s("report_lost")}
                  </button>`:m}
          </td>
        </tr>`)}
    </table>
  </div>`:o`<p class="muted">${s("none")}</p>`}var ni={wrong_pin:"current_pin",pin_change_locked:"current_pin",no_pin:"current_pin",pin_too_short:"new_pin",pin_too_long:"new_pin",pin_unchanged:"new_pin"},U=class extends ${constructor(){super(...arguments);this.profile=null;this.lapses=null;this.notify=null;this.errors={};this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){try{let[e,s,i]=await Promise.all([this.ctx.client.profile(),this.ctx.client.lapsingMine().catch(()=>null),this.ctx.client.notifyGet().catch(()=>null)]);this.profile=e,this.lapses=s,this.notify=i}catch(e){this.ctx.fail(e)}}async reportLost(e,s){if(!await this.ctx.confirm({text:this.t("confirm_lost",{label:s}),action:this.t("report_lost"),danger:!0}))return;await v(this,e,()=>this.ctx.client.credentialUpdate(e,!1))!==void 0&&this.ctx.done(),await this.load()}async changePin(e){e.preventDefault();let s=e.target,i=new FormData(s),n=x(i,"current_pin"),r=x(i,"new_pin"),c={};if(n||(c.current_pin=this.t("field_required")),r.length<6?c.new_pin=this.t("pin_short"):r!==i.get("repeat_pin")&&(c.repeat_pin=this.t("pin_mismatch")),this.errors=c,!Object.keys(c).length){try{await v(this,"pin",()=>this.ctx.client.changePin(r,n),{quiet:!0})}catch(l){let d=l.translation_key??"",h=ni[d]??M.errorField(l)??"current_pin";this.errors={[h]:this.ctx.i18n.error(l)};return}s.reset(),this.ctx.done("pin_changed"),await this.load()}}async saveNotify(e){e.preventDefault();let s=x(new FormData(e.target),"notify_service").trim();try{await v(this,"notify",()=>this.ctx.client.notifySet(s||null),{quiet:!0}),this.errors={},this.ctx.done()}catch(i){this.errors={notify_service:this.ctx.i18n.error(i)}}}field(e){let s=this.errors[e];return s?o`<span class="field-error" role="alert" data-error=${e}>${s}</span>`:m}render(){let e=this.profile,s=this.ctx.i18n;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let i=e.member;return i?o`
      ${i.pin_must_change?o`<div class="message error" data-pin="must-change">${this.t("pin_must_change")}</div>`:m}
      <div class="card">
        <h3>${i.name}</h3>
        <dl>
          <dt>${this.t("role")}</dt>
          <dd>${s.maybe(`role_${i.role}`)??i.role}</dd>
          <dt>${this.t("status")}</dt>
          <dd>${i.active?this.t("active"):this.t("inactive")}</dd>
          ${i.email?o`<dt>${this.t("email")}</dt><dd>${i.email}</dd>`:m}
        </dl>
      </div>
      <h2>${this.t("credentials")}</h2>
      ${Ce(s,i.credentials||[],{admin:!1,busy:n=>this.busyKeys.has(n),lost:n=>{this.reportLost(n.id,n.label)}})}
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
              ${e.sessions.map(n=>o`<tr>
                  <td>${this.deviceLabel(n.device_id)}</td>
                  <td>${s.when(n.start)}</td>
                  <td>${n.end?s.duration(n.duration):this.t("open_session")}</td>
                </tr>`)}
            </table>
          </div>`:o`<p class="muted">${this.t("none")}</p>`}
      ${this.pinForm(i.has_pin,i.pin_must_change)}
    `:o`<p class="muted">${this.t("not_linked")}</p>`}deviceLabel(e){for(let s of this.ctx.lab?.areas??[]){let i=s.devices.find(n=>n.device_id===e);if(i)return i.name}return e}authorizationsTable(e){if(!e.authorizations.length)return o`<p class="muted">${this.t("none")}</p>`;let s=this.ctx.i18n,i=new Map((this.lapses?.authorizations??[]).map(n=>[n.authorization_id,n]));return o`<div class="table-wrap">
      <table class="credentials">
        <tr>
          <th>${this.t("target")}</th>
          <th>${this.t("expires")}</th>
          <th>${this.t("hours")}</th>
          <th>${this.t("last_used")}</th>
          <th>${this.t("lapse_date")}</th>
        </tr>
        ${e.authorizations.map(n=>{let r=i.get(n.id);return o`<tr data-authorization=${n.id}>
            <td data-label=${this.t("target")}>${n.target}</td>
            <td data-label=${this.t("expires")}>
              ${n.expired?o`<span class="chip bad">${this.t("expired")}</span> `:m}
              ${n.expires?s.day(n.expires):this.t("never")}
            </td>
            <td data-label=${this.t("hours")}>${n.window_start?`${n.window_start}–${n.window_end}`:"—"}</td>
            <td data-label=${this.t("last_used")}>
              ${r?r.last_used?s.when(r.last_used):this.t("never_used"):"—"}
            </td>
            <td data-label=${this.t("lapse_date")}>${r?je(s,r):this.t("lapse_never")}</td>
          </tr>`})}
      </table>
    </div>`}notifyForm(){let e=this.notify;if(!e)return m;let s=e.phones.length?e.phones.map(At).join(", "):this.t("no_phones"),i=[...e.phones,...e.notify_service&&!e.phones.includes(e.notify_service)?[e.notify_service]:[]];return o`<h2>${this.t("notifications")}</h2>
      <form data-form="ops-notify" class="card" @submit=${n=>{this.saveNotify(n)}}>
        <label
          >${this.t("notify_phone")}<select name="notify_service">
            <option value="" ?selected=${!e.notify_service}>${this.t("notify_all_phones",{phones:s})}</option>
            ${i.map(n=>o`<option value=${n} ?selected=${n===e.notify_service}>${At(n)}</option>`)}
          </select>${this.field("notify_service")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("notify")}>${this.t("save")}</button>
        </div>
      </form>`}pinForm(e,s){return e?o`<h2>${this.t("change_pin")}</h2>
      <form data-form="pin" class="card" autocomplete="off" novalidate @submit=${i=>{this.changePin(i)}}>
        <span class="muted">${this.t("pin_hint")}</span>
        <label
          >${this.t(s?"current_initial_pin":"current_pin")}<input
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
        <p class="muted" data-pin="none">${this.t("no_pin_yet")}</p>`}};p([b()],U.prototype,"profile",2),p([b()],U.prototype,"lapses",2),p([b()],U.prototype,"notify",2),p([b()],U.prototype,"errors",2),U=p([y("fluxilab-profile-view")],U);function At(a){return a.replace(/^notify\.mobile_app_/,"").replace(/_/g," ")}function je(a,t){return t.lapse_date?o`${t.lapsed?o`<span class="chip bad">${a.t("lapsed")}</span> `:m}${a.when(t.lapse_date)}
    <span class="muted">(${a.maybe(`lapse_cause_${t.cause}`)??t.cause})</span>`:a.t("lapse_never")}var me=class extends ${constructor(){super(...arguments);this.list=null;this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){let e=await v(this,"load",()=>this.ctx.client.lapsingList());e&&(this.list=e)}async renew(e){await v(this,`renew:${e.authorization_id}`,()=>this.ctx.client.lapsingRenew(e.authorization_id))!==void 0&&this.ctx.done("renewed"),await this.load()}render(){let e=this.list;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=this.ctx.i18n,i=r=>r.machine_type_name||r.machine_type_id||r.device_id||"—",n=[{key:"member",title:this.t("member"),sort:r=>r.member_name||r.member_id||"",render:r=>r.member_name||r.member_id},{key:"target",title:this.t("target"),sort:i,render:i},{key:"last_used",title:this.t("last_used"),sort:r=>String(r.last_used??""),render:r=>r.last_used?s.when(r.last_used):this.t("never_used")},{key:"lapse",title:this.t("lapse_date"),sort:r=>r.lapse_date??"9999",render:r=>je(s,r)},{key:"actions",title:"",className:"actions",render:r=>o`<button
          class="primary"
          data-action="lapse-renew"
          data-auth=${r.authorization_id}
          ?disabled=${this.busyKeys.has(`renew:${r.authorization_id}`)}
          @click=${()=>{this.renew(r)}}
        >
          ${this.t("renew")}
        </button>`}];return o`<p class="muted">${this.t("lapsing_hint",{days:e.notice_days})}</p>
      <fluxilab-data-table
        name="lapsing"
        .i18n=${s}
        .rows=${e.authorizations}
        .columns=${n}
        sortKey="lapse"
        empty=${this.t("lapsing_none",{days:e.notice_days})}
        .rowKey=${r=>r.authorization_id}
        .searchText=${r=>`${r.member_name??""} ${r.member_id??""} ${i(r)}`}
      ></fluxilab-data-table>`}};p([b()],me.prototype,"list",2),me=p([y("fluxilab-lapsing-view")],me);var Et=Ee(class extends V{constructor(){super(...arguments),this.key=m}render(a,t){return this.key=a,t}update(a,[t,e]){return t!==this.key&&(Te(a),this.key=t),e}});var te=class extends ${constructor(){super(...arguments);this.editType=null;this.formError="";this.busyKeys=new Set}async removeType(e){!await this.ctx.confirm({text:this.t("confirm_delete_type",{name:e.name}),action:this.t("delete"),danger:!0})||await v(this,`type-delete:${e.id}`,()=>this.ctx.client.machineTypeDelete(e.id))===void 0||(this.ctx.done(),await this.ctx.reloadAdmin())}async save(e){e.preventDefault();let s=e.target,i=new FormData(s),n=_=>i.get(_)===""||i.get(_)===null?null:Number(i.get(_)),r=x(i,"name").trim();if(!r){this.formError=this.t("field_required");return}let c=x(i,"supervised_hours_start")||null,l=x(i,"supervised_hours_end")||null,d={name:r,session_timeout:n("session_timeout")??900,grace_period:n("grace_period")??60,requires_authorization:i.has("requires_authorization"),maintenance_interval:n("maintenance_interval"),maintenance_message:x(i,"maintenance_message")||null,block_when_maintenance_due:i.has("block_when_maintenance_due"),lapse_after_months:n("lapse_after_months")||null,offline_max_age:n("offline_max_age")??24,safety_limits:[],busy_channel:x(i,"busy_channel")||null,requires_supervisor:i.has("requires_supervisor"),supervisor_minutes:n("supervisor_minutes")||30,supervised_hours_start:c&&l?c:null,supervised_hours_end:c&&l?l:null,training_expiry_days:n("training_expiry_days")||null};if(i.get("offline_policy")&&(d.offline_policy=x(i,"offline_policy")),i.get("safety_channel")){let _={channel:x(i,"safety_channel")},w=n("safety_min"),A=n("safety_max");w!==null&&(_.min=w),A!==null&&(_.max=A),d.safety_limits=[_]}let h=n("busy_above"),u=n("busy_delay");h!==null&&(d.busy_above=h),u!==null&&(d.busy_delay=u);let f=x(i,"maintenance_conditions").trim();try{d.maintenance_conditions=f?JSON.parse(f):[]}catch{this.formError=this.t("error_conditions_json");return}this.editType&&(d.machine_type_id=this.editType);try{await v(this,"type",()=>this.ctx.client.machineTypeSave(d),{quiet:!0})}catch(_){this.formError=this.ctx.i18n.error(_);return}this.formError="",this.editType=null,s.reset(),this.ctx.done("saved_type",{name:r}),await this.ctx.reloadAdmin()}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=this.ctx.i18n,i=e.machine_types.find(u=>u.id===this.editType)??{},n=(i.safety_limits??[])[0]??{},r=[...new Set(e.devices.flatMap(u=>u.telemetry.map(f=>f.key)))],c=(u,f,_="any")=>o`<label>${this.t(u)}<input type="number" name=${u} step=${_} min="0" value=${f??""} /></label>`,l=(u,f)=>o`<label class="check"><input type="checkbox" name=${u} ?checked=${!!f} /> ${this.t(u)}</label>`,d=(u,f)=>o`<label>${this.t(u)}<input type="time" name=${u} value=${f??""} /></label>`,h=(u,f)=>o`<select name=${u}>
      <option value="" ?selected=${!f}>${this.t("none")}</option>
      ${r.map(_=>o`<option value=${_} ?selected=${_===f}>${_}</option>`)}
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
          ${e.machine_types.map(u=>o`<tr data-type=${u.id}>
              <td data-label=${this.t("name")}>${u.name}</td>
              <td data-label=${this.t("requires_authorization")}>${u.requires_authorization?"✔":"✘"}</td>
              <td data-label=${this.t("safety")}>
                ${(u.safety_limits??[]).map(f=>`${f.channel} ${f.min!==void 0?`≥ ${f.min}`:""} ${f.max!==void 0?`≤ ${f.max}`:""}`).join(", ")||"—"}
              </td>
              <td data-label=${this.t("maintenance_interval")}>
                ${u.maintenance_interval?`${s.number(u.maintenance_interval)} h`:"—"}
              </td>
              <td class="actions">
                <button class="secondary" data-action="type-edit" data-type=${u.id} @click=${()=>{this.editType=u.id,this.formError=""}}>
                  ${this.t("edit")}
                </button>
                <button
                  class="danger"
                  data-action="type-delete"
                  data-type=${u.id}
                  ?disabled=${this.busyKeys.has(`type-delete:${u.id}`)}
                  @click=${()=>{this.removeType(u)}}
                >
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`)}
        </table>
      </div>
      <h2>${i.id?`${this.t("edit")}: ${i.name}`:this.t("new_type")}</h2>
      ${Et(this.editType??"",o`<form data-form="type" class="card" data-type=${i.id??""} novalidate @submit=${u=>{this.save(u)}}>
          <label>${this.t("name")}<input name="name" maxlength="100" value=${i.name??""} /></label>
          ${c("session_timeout",i.session_timeout??900,"1")} ${c("grace_period",i.grace_period??60,"1")}
          ${l("requires_authorization",i.requires_authorization??!0)}
          ${c("maintenance_interval",i.maintenance_interval)}
          <label
            >${this.t("maintenance_message")}<input
              name="maintenance_message"
              maxlength="32"
              value=${i.maintenance_message??""}
          /></label>
          ${l("block_when_maintenance_due",i.block_when_maintenance_due)}
          ${c("lapse_after_months",i.lapse_after_months,"1")}
          <div class="actions">
            ${l("requires_supervisor",i.requires_supervisor)} ${c("supervisor_minutes",i.supervisor_minutes??30,"1")}
            ${d("supervised_hours_start",i.supervised_hours_start)} ${d("supervised_hours_end",i.supervised_hours_end)}
            ${c("training_expiry_days",i.training_expiry_days,"1")}
          </div>
          <label>${this.t("safety_channel")}${h("safety_channel",n.channel)}</label>
          <div class="actions">
            <label>${this.t("busy_channel")}${h("busy_channel",i.busy_channel)}</label>
            <label>${this.t("busy_above")}<input type="number" name="busy_above" step="any" value=${i.busy_above??""} /></label>
            ${c("busy_delay",i.busy_delay??30,"1")}
          </div>
          <label
            >${this.t("maintenance_conditions")}<textarea
              name="maintenance_conditions"
              rows="3"
              placeholder='[{"kind": "channel_hours", "channel": "fan_running", "hours": 500}]'
              .value=${i.maintenance_conditions?.length?JSON.stringify(i.maintenance_conditions):""}
            ></textarea></label
          >
          <div class="actions">${c("safety_min",n.min)}${c("safety_max",n.max)}</div>
          <div class="actions">
            <label
              >${this.t("offline_policy")}<select name="offline_policy">
                <option value="" ?selected=${!i.offline_policy}>${this.t("offline_default")}</option>
                <option value="allow_mirrored" ?selected=${i.offline_policy==="allow_mirrored"}>
                  ${this.t("offline_allow_mirrored")}
                </option>
                <option value="deny" ?selected=${i.offline_policy==="deny"}>${this.t("offline_deny")}</option>
              </select></label
            >
            ${c("offline_max_age",i.offline_max_age??24)}
          </div>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${this.busyKeys.has("type")}>${this.t("save")}</button>
            ${i.id?o`<button class="secondary" type="button" data-action="type-new" @click=${()=>this.editType=null}>
                  ${this.t("cancel")}
                </button>`:m}
            ${this.formError?o`<span class="field-error" role="alert" data-error="form">${this.formError}</span>`:m}
          </div>
        </form>`)}
    `}};p([b()],te.prototype,"editType",2),p([b()],te.prototype,"formError",2),te=p([y("fluxilab-machine-types-view")],te);var Ne=["user","staff","admin"],L=class extends ${constructor(){super(...arguments);this.editing=null;this.roleFilter="";this.statusFilter="";this.errors={};this.issued=null;this.busyKeys=new Set}roleName(e){return this.ctx.i18n.maybe(`role_${e}`)??e}async updateMember(e,s,i){return await v(this,i,()=>this.ctx.client.memberUpdate(e.id,s))===void 0?!1:(this.ctx.done("saved_member",{name:e.name}),await this.ctx.reloadAdmin(),!0)}async changeRole(e,s){let i=s.value;if(i==="admin"&&!await this.ctx.confirm({text:this.t("confirm_role_admin",{name:e.name}),action:this.t("make_admin")})){s.value=e.role;return}await this.updateMember(e,{role:i},`role:${e.id}`)||(s.value=e.role)}async removeMember(e){!await this.ctx.confirm({text:this.t("confirm_delete",{name:e.name}),action:this.t("delete"),danger:!0})||await v(this,`delete:${e.id}`,()=>this.ctx.client.memberDelete(e.id))===void 0||(this.ctx.done("deleted_member",{name:e.name}),await this.ctx.reloadAdmin())}async create(e){e.preventDefault();let s=e.target,i=new FormData(s),n=x(i,"name").trim(),r=x(i,"pin"),c={};if(n||(c.name=this.t("field_required")),r&&r.length<6&&(c.pin=this.t("pin_short")),this.errors=c,Object.keys(c).length||this.ctx.admin?.members.find(h=>h.name.toLocaleLowerCase()===n.toLocaleLowerCase())&&!await this.ctx.confirm({text:this.t("confirm_same_name",{name:n}),action:this.t("create")}))return;let d={name:n,role:x(i,"role")};i.get("email")&&(d.email=x(i,"email")),i.get("user_id")&&(d.user_id=x(i,"user_id")),i.get("card")&&(d.cards=[x(i,"card")]),r&&(d.pin=r);try{let h=await v(this,"create",()=>this.ctx.client.memberCreate(d),{quiet:!0});s.reset(),this.ctx.done("added_member",{name:n}),await this.ctx.reloadAdmin(),h&&this.querySelector("fluxilab-data-table")?.showRow(h.member_id)}catch(h){let u=ri(h)??"form";this.errors={[u]:this.ctx.i18n.error(h)}}}async credential(e,s){await v(this,e,s)!==void 0&&this.ctx.done(),await this.ctx.reloadAdmin()}async addCard(e,s){e.preventDefault();let i=e.target,n=new FormData(i),r=x(n,"secret").trim();if(!r){this.errors={secret:this.t("field_required")};return}try{await v(this,"credential-add",()=>this.ctx.client.credentialAdd(s.id,r,x(n,"label")||void 0),{quiet:!0}),this.errors={},i.reset(),this.ctx.done(),await this.ctx.reloadAdmin()}catch(c){this.errors={secret:this.ctx.i18n.error(c)}}}async resetPin(e){if(!await this.ctx.confirm({text:this.t("confirm_reset_pin",{name:e.name}),action:this.t("reset_pin"),danger:!0}))return;let i=await v(this,`reset-pin:${e.id}`,()=>this.ctx.client.resetPin(e.id));i&&(this.issued={member:e.id,text:this.t("pin_issued",{name:e.name,pin:i.pin})},this.ctx.done()),await this.ctx.reloadAdmin()}editor(e){if(this.editing!==e.id)return m;let s=this.busyKeys;return o`<tr class="editor-row" data-editor=${e.id}>
      <td colspan="6">
        <h3>${this.t("credentials_of",{name:e.name})}</h3>
        ${this.issued?.member===e.id?o`<div class="message success" data-issued=${e.id}>${this.issued.text}</div>`:m}
        ${Ce(this.ctx.i18n,e.credentials||[],{admin:!0,busy:i=>s.has(`credential:${i}`),toggle:i=>{this.credential(`credential:${i.id}`,()=>this.ctx.client.credentialUpdate(i.id,!i.active,e.id))},remove:i=>{this.ctx.confirm({text:this.t("confirm_delete",{name:i.label}),action:this.t("delete"),danger:!0}).then(n=>n?this.credential(`credential:${i.id}`,()=>this.ctx.client.credentialRemove(e.id,i.id)):void 0)}})}
        <form
          data-form="credential-add"
          data-member=${e.id}
          class="inline"
          autocomplete="off"
          novalidate
          @submit=${i=>{this.addCard(i,e)}}
        >
          <label
            >${this.t("card")}<input name="secret" type="password" maxlength="64" autocomplete="off" />${this.error("secret")}</label
          >
          <label>${this.t("credential_label")}<input name="label" maxlength="64" /></label>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${s.has("credential-add")}>
              ${this.t("add_credential")}
            </button>
            <button
              class="secondary"
              type="button"
              data-action="credential-reset-pin"
              data-member=${e.id}
              ?disabled=${s.has(`reset-pin:${e.id}`)}
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
    </tr>`}error(e){let s=this.errors[e];return s?o`<span class="field-error" role="alert" data-error=${e}>${s}</span>`:m}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=e.users,i=e.members.filter(r=>(!this.roleFilter||r.role===this.roleFilter)&&(!this.statusFilter||String(r.active)===this.statusFilter)),n=[{key:"name",title:this.t("name"),sort:r=>r.name,render:r=>o`${r.name}<div class="muted">${r.email||""}</div>`},{key:"role",title:this.t("role"),sort:r=>Ne.indexOf(r.role),render:r=>o`<select
          data-action="member-role"
          data-member=${r.id}
          aria-label=${this.t("role")}
          @change=${c=>{this.changeRole(r,c.target)}}
        >
          ${Ne.map(c=>o`<option value=${c} ?selected=${c===r.role}>${this.roleName(c)}</option>`)}
        </select>`},{key:"user",title:this.t("linked_user"),sort:r=>s.find(c=>c.id===r.user_id)?.name??"",render:r=>o`<select
          data-action="member-user"
          data-member=${r.id}
          aria-label=${this.t("linked_user")}
          @change=${c=>{this.updateMember(r,{user_id:c.target.value||null},`user:${r.id}`)}}
        >
          <option value="" ?selected=${!r.user_id}>${this.t("no_user")}</option>
          ${s.map(c=>o`<option value=${c.id} ?selected=${c.id===r.user_id}>${c.name}</option>`)}
        </select>`},{key:"cards",title:this.t("cards"),sort:r=>r.cards.length,render:r=>o`${r.cards.join(", ")||"—"}
          <button
            class="secondary"
            data-action="credentials-edit"
            data-member=${r.id}
            aria-expanded=${this.editing===r.id}
            @click=${()=>{this.editing=this.editing===r.id?null:r.id,this.issued=null,this.errors={}}}
          >
            ${this.t("edit")}
          </button>`},{key:"pin",title:"PIN",sort:r=>Number(r.has_pin),render:r=>r.has_pin?this.t("has_pin"):this.t("no_pin")},{key:"actions",title:"",className:"actions",render:r=>o`<button
            class="secondary"
            data-action="member-supervise"
            data-member=${r.id}
            data-supervise=${String(!r.supervise)}
            ?disabled=${this.busyKeys.has(`supervise:${r.id}`)}
            @click=${()=>{this.updateMember(r,{supervise:!r.supervise},`supervise:${r.id}`)}}
          >
            ${this.t(r.supervise?"remove_supervisor":"make_supervisor")}
          </button>
          <button
            class="secondary"
            data-action="member-active"
            data-member=${r.id}
            data-active=${String(!r.active)}
            ?disabled=${this.busyKeys.has(`active:${r.id}`)}
            @click=${()=>{this.updateMember(r,{active:!r.active},`active:${r.id}`)}}
          >
            ${r.active?this.t("deactivate"):this.t("activate")}
          </button>
          <button
            class="danger"
            data-action="member-delete"
            data-member=${r.id}
            ?disabled=${this.busyKeys.has(`delete:${r.id}`)}
            @click=${()=>{this.removeMember(r)}}
          >
            ${this.t("delete")}
          </button>`}];return o`
      <fluxilab-data-table
        name="members"
        .i18n=${this.ctx.i18n}
        .rows=${i}
        .columns=${n}
        sortKey="name"
        .rowKey=${r=>r.id}
        .searchText=${r=>`${r.name} ${r.email??""} ${r.id} ${r.cards.join(" ")}`}
        .expanded=${r=>this.editor(r)}
        .filters=${o`<select
            name="role_filter"
            aria-label=${this.t("role")}
            @change=${r=>this.roleFilter=r.target.value}
          >
            <option value="">${this.t("all_roles")}</option>
            ${Ne.map(r=>o`<option value=${r}>${this.roleName(r)}</option>`)}
          </select>
          <select
            name="status_filter"
            aria-label=${this.t("status")}
            @change=${r=>this.statusFilter=r.target.value}
          >
            <option value="">${this.t("all_statuses")}</option>
            <option value="true">${this.t("active")}</option>
            <option value="false">${this.t("inactive")}</option>
          </select>`}
      ></fluxilab-data-table>
      <h2>${this.t("create_member")}</h2>
      <form data-form="member" class="card" autocomplete="off" novalidate @submit=${r=>{this.create(r)}}>
        <label>${this.t("name")}<input name="name" maxlength="100" />${this.error("name")}</label>
        <label>${this.t("email")}<input name="email" type="email" />${this.error("email")}</label>
        <label
          >${this.t("role")}<select name="role">
            ${Ne.map(r=>o`<option value=${r} ?selected=${r==="user"}>${this.roleName(r)}</option>`)}
          </select></label
        >
        <label
          >${this.t("linked_user")}<select name="user_id">
            <option value="">${this.t("no_user")}</option>
            ${s.map(r=>o`<option value=${r.id}>${r.name}</option>`)}
          </select>${this.error("user_id")}</label
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
    `}};p([b()],L.prototype,"editing",2),p([b()],L.prototype,"roleFilter",2),p([b()],L.prototype,"statusFilter",2),p([b()],L.prototype,"errors",2),p([b()],L.prototype,"issued",2),L=p([y("fluxilab-members-view")],L);function ri(a){let t=a?.translation_key;return t&&{card_in_use:"cards",card_duplicate:"cards",user_linked:"user_id",pin_too_short:"pin",pin_too_long:"pin"}[t]||M.errorField(a)}var W=class extends ${constructor(){super(...arguments);this.ops=null;this.exportMember="";this.errors={};this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),v(this,"load",()=>this.ctx.client.notifySettings()).then(e=>{e&&(this.ops=e)})}async saveOps(e){e.preventDefault();let s=new FormData(e.target),i=x(s,"admin_notify_services").split(",").map(n=>n.trim()).filter(Boolean);try{let n=await v(this,"ops",()=>this.ctx.client.notifySettings({admin_notify_services:i,lapse_notice_days:Number(s.get("lapse_notice_days")),interest_expiry_hours:Number(s.get("interest_expiry_hours"))}),{quiet:!0});n&&(this.ops=n),this.errors={},this.ctx.done()}catch(n){this.errors={ops:this.ctx.i18n.error(n)}}}async saveRetention(e){e.preventDefault();let s=new FormData(e.target);try{let i=await v(this,"retention",()=>this.ctx.client.retention({usage_retention_days:Number(s.get("usage_retention_days")),unknown_card_retention_days:Number(s.get("unknown_card_retention_days")),show_member_names:s.has("show_member_names")}),{quiet:!0});this.errors={},i&&this.ctx.done("purged",{count:i.anonymized,cards:i.unknown_cards_deleted}),await this.ctx.reloadAdmin()}catch(i){this.errors={retention:this.ctx.i18n.error(i)}}}async export(){if(!this.exportMember){this.errors={export:this.t("pick_member")};return}let e=this.exportMember,s=await v(this,"export",()=>this.ctx.client.memberExport(e));s&&(this.errors={},X(JSON.stringify(s,null,2),`fluxilab-${e}.json`,"application/json"))}error(e){let s=this.errors[e];return s?o`<span class="field-error" role="alert" data-error=${e}>${s}</span>`:m}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=e.settings,i=this.ops;return o`
      ${i?o`<h2>${this.t("notifications")}</h2>
            <form data-form="ops-settings" class="card" @submit=${n=>{this.saveOps(n)}}>
              <label
                >${this.t("admin_notify_services")}<input
                  name="admin_notify_services"
                  value=${(i.admin_notify_services||[]).join(", ")}
              /></label>
              <label
                >${this.t("lapse_notice_days")}<input
                  type="number"
                  min="1"
                  max="365"
                  step="1"
                  name="lapse_notice_days"
                  required
                  value=${i.lapse_notice_days}
              /></label>
              <label
                >${this.t("interest_expiry_hours")}<input
                  type="number"
                  min="1"
                  max="168"
                  step="1"
                  name="interest_expiry_hours"
                  required
                  value=${i.interest_expiry_hours}
              /></label>
              <div class="actions">
                <button class="primary" type="submit" ?disabled=${this.busyKeys.has("ops")}>${this.t("save")}</button>
                ${this.error("ops")}
              </div>
            </form>`:m}
      <h2>${this.t("retention")}</h2>
      <form data-form="retention" class="card" @submit=${n=>{this.saveRetention(n)}}>
        <label
          >${this.t("usage_retention_days")}<input
            type="number"
            min="1"
            max="36500"
            step="1"
            name="usage_retention_days"
            required
            value=${s.usage_retention_days}
        /></label>
        <label
          >${this.t("unknown_card_retention_days")}<input
            type="number"
            min="1"
            max="36500"
            step="1"
            name="unknown_card_retention_days"
            required
            value=${s.unknown_card_retention_days}
        /></label>
        <label class="check"
          ><input type="checkbox" name="show_member_names" ?checked=${!!s.show_member_names} />
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
          .items=${e.members.map(n=>({id:n.id,label:n.name,sub:n.email??void 0}))}
          .value=${this.exportMember?[this.exportMember]:[]}
          error=${this.errors.export??""}
          @change=${n=>this.exportMember=n.target.value[0]??""}
        ></fluxilab-picker>
        <div class="actions">
          <button class="primary" ?disabled=${this.busyKeys.has("export")} @click=${()=>{this.export()}}>
            ${this.t("export")}
          </button>
        </div>
      </div>
    `}};p([b()],W.prototype,"ops",2),p([b()],W.prototype,"exportMember",2),p([b()],W.prototype,"errors",2),W=p([y("fluxilab-settings-view")],W);var ie=class extends ${constructor(){super(...arguments);this.picked={};this.errors={};this.busyKeys=new Set}async assign(e){let s=this.picked[e];if(!s){this.errors={[e]:this.t("pick_member")};return}try{await v(this,`assign:${e}`,()=>this.ctx.client.assignCard(s,e),{quiet:!0})}catch(i){this.errors={[e]:this.ctx.i18n.error(i)};return}this.errors={},this.ctx.done("assigned_card",{name:z(this.ctx.admin,s)}),await this.ctx.reloadAdmin()}render(){let e=this.ctx.admin;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=e.members.map(n=>({id:n.id,label:n.name,sub:n.email??void 0})),i=[{key:"card",title:this.t("card"),sort:n=>n.card,render:n=>n.card},{key:"device",title:this.t("seen_at"),sort:n=>T(e,n.device_id),render:n=>T(e,n.device_id)},{key:"ts",title:this.t("seen"),sort:n=>n.ts,render:n=>this.ctx.i18n.when(n.ts)},{key:"assign",title:this.t("assign_to"),render:n=>o`<div class="inline" data-form="assign" data-card=${n.card}>
          <fluxilab-picker
            name="member_id"
            .i18n=${this.ctx.i18n}
            .items=${s}
            .value=${this.picked[n.card]?[this.picked[n.card]]:[]}
            error=${this.errors[n.card]??""}
            @change=${r=>this.picked={...this.picked,[n.card]:r.target.value[0]??""}}
          ></fluxilab-picker>
          <button class="primary" ?disabled=${this.busyKeys.has(`assign:${n.card}`)} @click=${()=>{this.assign(n.card)}}>
            ${this.t("assign")}
          </button>
        </div>`}];return o`<fluxilab-data-table
      name="unknown_cards"
      .i18n=${this.ctx.i18n}
      .rows=${e.unknown_cards}
      .columns=${i}
      sortKey="ts"
      sortDescending
      .rowKey=${n=>n.card}
      .searchText=${n=>`${n.card} ${n.device_id} ${T(e,n.device_id)}`}
    ></fluxilab-data-table>`}};p([b()],ie.prototype,"picked",2),p([b()],ie.prototype,"errors",2),ie=p([y("fluxilab-unknown-cards-view")],ie);var We=["members","authorizations","machine_types","devices","unknown_cards","history","audit","lapsing","settings"],he=class extends ${constructor(){super(...arguments);this.sub="members"}updated(){this.querySelector('nav.sub button[aria-selected="true"]')?.scrollIntoView({block:"nearest",inline:"center"})}body(){let e=this.ctx;switch(this.sub){case"authorizations":return o`<fluxilab-authorizations-view .ctx=${e}></fluxilab-authorizations-view>`;case"machine_types":return o`<fluxilab-machine-types-view .ctx=${e}></fluxilab-machine-types-view>`;case"devices":return o`<fluxilab-devices-view .ctx=${e}></fluxilab-devices-view>`;case"unknown_cards":return o`<fluxilab-unknown-cards-view .ctx=${e}></fluxilab-unknown-cards-view>`;case"history":return o`<fluxilab-history-view .ctx=${e}></fluxilab-history-view>`;case"audit":return o`<fluxilab-audit-view .ctx=${e}></fluxilab-audit-view>`;case"lapsing":return o`<fluxilab-lapsing-view .ctx=${e}></fluxilab-lapsing-view>`;case"settings":return o`<fluxilab-settings-view .ctx=${e}></fluxilab-settings-view>`;default:return o`<fluxilab-members-view .ctx=${e}></fluxilab-members-view>`}}render(){return o`<nav class="sub tabs" role="tablist">
        ${We.map(e=>o`<button
            role="tab"
            data-action="admin-tab"
            data-tab=${e}
            aria-selected=${String(this.sub===e)}
            @click=${()=>this.ctx.navigate(`admin/${e}`)}
          >
            ${this.t(e)}
          </button>`)}
      </nav>
      ${this.body()}`}};p([g()],he.prototype,"sub",2),he=p([y("fluxilab-admin-view")],he);function ai(a){let t=[];for(let e of a??[]){let s=Number(e.s),i=e.lu??e.lc;e.s===""||!Number.isFinite(s)||typeof i!="number"||t.push([i,s])}return t}var Re=class{constructor(t){this.changed=t;this.series=new Map;this.loading=new Set;this.loaded=new Set}get(t){return t&&this.series.get(t)||[]}async load(t,e,s=Date.now()/1e3){let i=[...new Set(e)].filter(n=>!!n&&!this.loaded.has(n)&&!this.loading.has(n));if(i.length){i.forEach(n=>this.loading.add(n));try{let n=await t.recorded(i,new Date((s-3600)*1e3));for(let r of i){let c=this.series.get(r)??[],l=ai(n[r]),d=l.length?l[l.length-1][0]:-1/0;this.series.set(r,[...l,...c.filter(([h])=>h>d)])}}catch{for(let n of i)this.series.has(n)||this.series.set(n,[])}finally{i.forEach(n=>this.loaded.add(n)),i.forEach(n=>this.loading.delete(n)),this.changed()}}}push(t,e,s=Date.now()/1e3){if(!t||typeof e!="number"||!Number.isFinite(e))return;let i=this.series.get(t)??[],n=i[i.length-1];if(!(n&&n[1]===e&&s-n[0]<60)){for(i.push([s,e]);i.length>1&&i[0][0]<s-3600;)i.shift();this.series.set(t,i)}}};function Tt(a,t,e,s=Date.now()/1e3){if(!a.length)return"";let i=s-3600,n=a.map(([,f])=>f),r=Math.min(...n),c=Math.max(...n),l=c-r||1,d=f=>(Math.max(f,i)-i)/3600*t,h=f=>c===r?e/2:e-1-(f-r)/l*(e-2),u=`M${d(a[0][0]).toFixed(1)},${h(a[0][1]).toFixed(1)}`;for(let f=1;f<a.length;f++)u+=`H${d(a[f][0]).toFixed(1)}V${h(a[f][1]).toFixed(1)}`;return`${u}H${t}`}var Pt=120,zt=28,G=class extends S{constructor(){super(...arguments);this.points=[];this.label=""}render(){let e=Tt(this.points,Pt,zt);return o`<svg
      viewBox="0 0 ${Pt} ${zt}"
      preserveAspectRatio="none"
      role="img"
      aria-label=${this.label}
      data-points=${this.points.length}
    >
      ${e?dt`<path d=${e}></path>`:null}
    </svg>`}};G.styles=ne`
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
  `,p([g({attribute:!1})],G.prototype,"points",2),p([g()],G.prototype,"label",2),G=p([y("fluxilab-sparkline")],G);var oi=6,Y=class extends ${constructor(){super(...arguments);this.interest=[];this.query="";this.blocked=null;this.busyKeys=new Set;this.interestLoaded=!1;this.series=new Re(()=>this.requestUpdate())}connectedCallback(){super.connectedCallback(),this.loadInterest(),this.follow()}follow(){let e=(this.ctx.lab?.areas??[]).flatMap(s=>s.devices.flatMap(i=>i.telemetry));for(let s of e)this.series.push(s.entity_id,s.value);this.series.load(this.ctx.client,e.map(s=>s.entity_id))}disconnectedCallback(){super.disconnectedCallback(),clearTimeout(this.timer)}labUpdated(){this.follow(),!(this.interestLoaded&&!this.interest.length)&&(clearTimeout(this.timer),this.timer=window.setTimeout(()=>{this.loadInterest()},300))}async loadInterest(){try{this.interest=(await this.ctx.client.interestList()).subscriptions}catch{this.interest=[]}this.interestLoaded=!0}async openDevice(e){await v(this,`open:${e}`,async()=>{let{url:s}=await this.ctx.client.open(e),i=new URL(s);if(i.protocol!=="http:"&&i.protocol!=="https:")throw new Z("open_refused");this.blocked=null;let n=window.open(i.href,"_blank");n?n.opener=null:this.blocked={deviceId:e,url:i.href}})}async wait(e,s){await v(this,`interest:${e}`,()=>this.ctx.client.interest(e,s)),await this.loadInterest()}render(){let e=this.ctx.lab;return e?o`
      ${!e.member&&!e.manager?o`<p class="muted">${this.t("not_linked")}</p>`:m}
      ${e.areas.length?this.areas():o`<p class="muted">${this.t("no_devices")}</p>`}
    `:o`<p class="muted">${this.t("loading")}</p>`}areas(){let e=this.ctx.lab,s=e?.areas.reduce((l,d)=>l+d.devices.length,0)??0,i=this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean),n=new Intl.Collator(this.ctx.i18n.language,{numeric:!0,sensitivity:"base"}),r=l=>{let d=`${l.name} ${l.device_id} ${l.machine_type??""}`.toLocaleLowerCase();return i.every(h=>d.includes(h))},c=(e?.areas??[]).map(l=>({area:l.area,devices:l.devices.filter(r).sort((d,h)=>n.compare(d.name,h.name))})).filter(l=>l.devices.length);return o`${s>oi?o`<div class="table-toolbar">
          <input
            class="search"
            type="search"
            name="device_search"
            aria-label=${this.t("search")}
            placeholder=${this.t("search")}
            .value=${this.query}
            @input=${l=>this.query=l.target.value}
          />
        </div>`:m}
    ${c.length?c.map(l=>o`<h2>${l.area||this.t("no_area")}</h2>
            <div class="grid">${l.devices.map(d=>this.card(d))}</div>`):o`<p class="muted">${this.t("no_match")}</p>`}`}card(e){let s=this.ctx.i18n,i=this.busyKeys.has(`open:${e.device_id}`);return o`<div class="card device" data-device=${e.device_id}>
      <h3>${e.name}</h3>
      <div class="sub-title">${[e.machine_type,e.device_id].filter(Boolean).join(" · ")}</div>
      <div class="chips">
        ${e.online?o`<span class="chip ok">${this.t("online")}</span>`:o`<span class="chip bad">${this.t("offline")}</span>`}
        ${e.in_use?o`<span class="chip info"
              >${e.member_name?this.t("in_use_by",{name:e.member_name}):this.t("in_use")}</span
            >`:o`<span class="chip">${this.t("free")}</span>`}
        ${e.blocked?o`<span class="chip bad">${this.t("blocked")}</span>`:m}
        ${e.maintenance_due?o`<span class="chip warn">${this.t("maintenance_due")}</span>`:m}
        ${e.busy?o`<span class="chip info">${this.t("busy")}</span>`:m}
        ${!e.paired&&!e.board?o`<span class="chip warn">${this.t("not_paired")}</span>`:m}
      </div>
      ${e.telemetry.length?o`<div class="telemetry">
            ${e.telemetry.map(n=>{let r=(e.safety_limits??[]).find(u=>u.channel===n.key),c=typeof n.value=="number"?n.value:null,l=r!==void 0&&c!==null&&(r.min!==void 0&&c<r.min||r.max!==void 0&&c>r.max),d=n.unit&&n.value!==null&&n.value!==void 0?` ${n.unit}`:"",h=this.series.get(n.entity_id);return o`<span>${n.name}</span
                >${n.entity_id?o`<fluxilab-sparkline
                      data-channel=${n.key}
                      .points=${h}
                      label=${this.t("last_hour",{name:n.name})}
                    ></fluxilab-sparkline>`:o`<span></span>`}<span class="v ${l?"outside":""}" data-channel=${n.key}
                  >${s.number(n.value)}${d}${r?o` <span class="muted limit"
                        >(${[r.min!==void 0?`≥ ${s.number(r.min)}`:"",r.max!==void 0?`≤ ${s.number(r.max)}`:""].filter(Boolean).join(" ")})</span
                      >`:m}</span
                >`})}
          </div>`:m}
      ${typeof e.hours_to_maintenance=="number"&&!e.maintenance_due?o`<div class="muted">${this.t("hours_left",{hours:s.number(e.hours_to_maintenance)})}</div>`:m}
      ${(e.maintenance_conditions||[]).map(n=>o`<div class="muted">
          ${n.due?o`<span class="chip warn">${this.t("maintenance_due")}</span> `:m}
          ${this.t("condition_progress",{text:n.text??n.key,value:s.number(n.value),target:s.number(n.target)})}
        </div>`)}
      <div class="actions">
        ${e.paired&&e.has_ui?o`<button
              class="primary"
              data-action="open"
              data-device=${e.device_id}
              ?disabled=${i}
              @click=${()=>{this.openDevice(e.device_id)}}
            >
              ${i?this.t("opening"):this.t("open")}
            </button>`:e.paired||e.board?o`<span class="muted">${this.t("no_ui")}</span>`:m}
        ${this.interestActions(e)}
      </div>
      ${this.blocked?.deviceId===e.device_id?o`<p class="muted">
            ${this.t("open_blocked")}
            <a href=${this.blocked.url} target="_blank" rel="noopener noreferrer" data-action="open-link"
              >${this.t("open_link",{name:e.name})}</a
            >
          </p>`:m}
      ${e.has_ui&&e.gateway_fingerprint?o`<details class="certificate">
            <summary class="muted">${this.t("gateway_certificate")}</summary>
            <p class="muted">${this.t("gateway_certificate_hint")}</p>
            <code>${e.gateway_fingerprint}</code>
          </details>`:m}
    </div>`}interestActions(e){if(!this.ctx.lab?.member||!e.in_use)return m;let s=this.interest.find(n=>n.device_id===e.device_id),i=this.busyKeys.has(`interest:${e.device_id}`);return s?o`<span class="chip info">${this.t("waiting_position",{position:s.position})}</span>
          <button
            class="secondary"
            data-action="interest-cancel"
            data-device=${e.device_id}
            ?disabled=${i}
            @click=${()=>{this.wait(e.device_id,!1)}}
          >
            ${this.t("stop_waiting")}
          </button>`:o`<button
          class="secondary"
          data-action="interest"
          data-device=${e.device_id}
          ?disabled=${i}
          @click=${()=>{this.wait(e.device_id,!0)}}
        >
          ${this.t("notify_when_free")}
        </button>`}};p([b()],Y.prototype,"interest",2),p([b()],Y.prototype,"query",2),p([b()],Y.prototype,"blocked",2),Y=p([y("fluxilab-lab-view")],Y);var Ge="fluxilab-print-style",J=class extends ${constructor(){super(...arguments);this.presence=null;this.settings=null;this.printing=!1;this.busyKeys=new Set}connectedCallback(){super.connectedCallback(),this.load()}async load(){try{let[e,s]=await Promise.all([this.ctx.client.occupancy(),this.ctx.lab?.manager?this.ctx.client.occupancySettings():Promise.resolve(null)]);this.presence=e,this.settings=s}catch(e){this.ctx.fail(e)}}where(e){return e.map(s=>s==="entrance"?this.t("entrance"):s).join(", ")}async check(e){await v(this,e,()=>this.ctx.client.check(e))!==void 0&&this.ctx.done(),await this.load()}print(){if(this.presence?.members&&(this.printing=!0,!document.getElementById(Ge))){let e=document.createElement("style");e.id=Ge,e.textContent="@media print { body * { visibility: hidden !important; } }",document.head.appendChild(e)}}closePrint(){this.printing=!1,document.getElementById(Ge)?.remove()}disconnectedCallback(){super.disconnectedCallback(),this.closePrint()}printable(){let e=this.presence,s=e?.members??[];return o`<section class="printable" role="dialog" aria-modal="true" aria-label=${this.t("print_list")}>
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
        ${s.map(i=>o`<tr>
              <td>${i.name}</td>
              <td>${this.ctx.i18n.when(i.since)}</td>
              <td>${this.where(i.where)}</td>
              <td>☐</td>
            </tr>`)}
      </table>
    </section>`}csv(){let e=i=>`"${String(i).replace(/"/g,'""')}"`,s=[["member_id","name","since","where"].join(",")];for(let i of this.presence?.members??[])s.push([i.member_id,i.name,i.since,i.where.join("; ")].map(e).join(","));X(`${s.join(`
`)}
`,"fluxilab-in-the-lab.csv","text/csv")}async saveSettings(e){e.preventDefault();let s=new FormData(e.target),i=await v(this,"settings",()=>this.ctx.client.occupancySettings({checkin_expiry_hours:Number(s.get("checkin_expiry_hours"))}));i&&(this.settings=i,this.ctx.done())}render(){let e=this.presence;if(!e)return o`<p class="muted">${this.t("loading")}</p>`;let s=!!this.ctx.lab?.member;return this.printing?this.printable():o`<h2>${this.t("people_in_lab",{count:e.count})}</h2>
      <div class="actions">
        <button class="secondary" data-action="presence-refresh" @click=${()=>{this.load()}}>
          ${this.t("refresh")}
        </button>
        ${s?o`<button
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
              </button>`:m}
        ${e.members?o`<button class="primary" data-action="presence-print" @click=${()=>this.print()}>
                ${this.t("print_list")}
              </button>
              <button class="secondary" data-action="presence-csv" @click=${()=>this.csv()}>
                ${this.t("download_csv")}
              </button>`:m}
      </div>
      ${e.members?e.members.length?o`<div class="table-wrap">
              <table>
                <tr>
                  <th>${this.t("name")}</th>
                  <th>${this.t("since")}</th>
                  <th>${this.t("where")}</th>
                </tr>
                ${e.members.map(i=>o`<tr>
                      <td>${i.name}</td>
                      <td>${this.ctx.i18n.when(i.since)}</td>
                      <td>${this.where(i.where)}</td>
                    </tr>`)}
              </table>
            </div>`:o`<p class="muted">${this.t("nobody_in_lab")}</p>`:m}
      ${this.settings?o`<form data-form="presence-settings" class="card" @submit=${i=>{this.saveSettings(i)}}>
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
          </form>`:m}`}};p([b()],J.prototype,"presence",2),p([b()],J.prototype,"settings",2),p([b()],J.prototype,"printing",2),J=p([y("fluxilab-presence-view")],J);var Ct=["lab","presence","profile","admin"],li={success:5,error:10},di=2e3,ci=o`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3,6H21V8H3V6M3,11H21V13H3V11M3,16H21V18H3V16Z" /></svg>`,P=class extends S{constructor(){super(...arguments);this.narrow=!1;this.lab=null;this.admin=null;this.toast=null;this.asking=null;this.path="";this.client=new Ae(()=>this.hass);this.exceptions=null;this.language="";this.unsubscribe=null;this.toastId=0}connectedCallback(){super.connectedCallback(),this.hass&&this.subscribe()}disconnectedCallback(){super.disconnectedCallback();let e=this.unsubscribe;this.unsubscribe=null,e?.then(s=>s()).catch(()=>{}),clearTimeout(this.adminTimer),this.adminTimer=void 0,clearTimeout(this.toastTimer)}shouldUpdate(e){return e.size===1&&e.has("hass")&&this.i18n&&this.unsubscribe?(this.hass.locale?.language||this.hass.language||"en")!==this.language:!0}willUpdate(e){if(e.has("hass")&&this.hass){let s=this.hass.locale?.language||this.hass.language||"en";s!==this.language&&(this.language=s,this.i18n=new M(this.hass,this.exceptions),bt(this.hass).then(i=>{this.exceptions=i,this.i18n=new M(this.hass,i),this.requestUpdate()})),this.unsubscribe||this.subscribe()}e.has("route")&&this.route&&(this.path=this.route.path.replace(/^\//,""))}subscribe(){this.unsubscribe||!this.hass||!this.isConnected||(this.unsubscribe=this.client.subscribeLab(e=>{this.lab=e,this.querySelectorLab()?.labUpdated(),this.tab==="admin"&&e.manager&&this.adminTimer===void 0&&(this.adminTimer=window.setTimeout(()=>{this.adminTimer=void 0,this.reloadAdmin()},di))}),this.unsubscribe.catch(e=>{this.unsubscribe=null,this.fail(e)}))}querySelectorLab(){return this.renderRoot?.querySelector("fluxilab-lab-view")??null}get tab(){let e=this.path.split("/")[0];return e==="admin"&&this.lab&&!this.lab.manager?"lab":Ct.includes(e)?e:"lab"}get sub(){let e=this.path.split("/")[1];return We.includes(e)?e:"members"}navigate(e){let s=this.route?.prefix??"/fluxilab",i=this.tab==="admin";this.path=e,window.history.pushState(null,"",`${s}/${e}`),window.dispatchEvent(new CustomEvent("location-changed",{detail:{replace:!1}})),this.tab==="admin"&&!i&&this.reloadAdmin()}async reloadAdmin(){try{this.admin=await this.client.adminState()}catch(e){this.fail(e)}}show(e,s){clearTimeout(this.toastTimer),this.toast={kind:e,text:s,id:++this.toastId},this.toastTimer=window.setTimeout(()=>this.toast=null,li[e]*1e3)}done(e="done",s){this.i18n&&this.show("success",this.i18n.t(e,s))}fail(e){this.i18n&&this.show("error",this.i18n.error(e))}confirm(e){return this.asking?.resolve(!1),new Promise(s=>{this.asking={...e,resolve:s},this.updateComplete.then(()=>{let i=this.renderRoot.querySelector("dialog.confirm");i&&!i.open&&i.showModal()})})}answer(e){let s=this.asking;this.asking=null,this.renderRoot.querySelector("dialog.confirm")?.close(),s?.resolve(e)}context(e){return{client:this.client,i18n:e,lab:this.lab,admin:this.admin,done:(s,i)=>this.done(s,i),fail:s=>this.fail(s),confirm:s=>this.confirm(s),reloadAdmin:()=>this.reloadAdmin(),navigate:s=>this.navigate(s)}}firstUpdated(){this.tab==="admin"&&this.reloadAdmin()}updated(e){(e.has("lab")||e.has("path"))&&this.tab==="admin"&&!this.admin&&this.lab?.manager&&this.reloadAdmin()}render(){let e=this.i18n;if(!e)return o``;let s=e.t.bind(e),i=this.context(e),n=Ct.filter(c=>c!=="admin"||this.lab?.manager),r=this.tab;return o`
      <header>
        ${this.narrow?o`<button
              class="menu"
              aria-label=${s("menu")}
              @click=${()=>this.dispatchEvent(new Event("hass-toggle-menu",{bubbles:!0,composed:!0}))}
            >
              ${ci}
            </button>`:m}
        <h1>${s("title")}</h1>
      </header>
      <nav class="tabs" role="tablist">
        ${n.map(c=>o`<button
            role="tab"
            data-tab=${c}
            aria-selected=${String(r===c)}
            @click=${()=>this.navigate(c==="admin"?`admin/${this.sub}`:c)}
          >
            ${s(c)}
          </button>`)}
      </nav>
      <main id="content">
        ${r==="presence"?o`<fluxilab-presence-view .ctx=${i}></fluxilab-presence-view>`:r==="profile"?o`<fluxilab-profile-view .ctx=${i}></fluxilab-profile-view>`:r==="admin"?o`<fluxilab-admin-view .ctx=${i} .sub=${this.sub}></fluxilab-admin-view>`:o`<fluxilab-lab-view .ctx=${i}></fluxilab-lab-view>`}
      </main>
      ${this.toast?o`<div class="toast ${this.toast.kind}" role=${this.toast.kind==="error"?"alert":"status"} data-toast=${this.toast.kind}>
            <span class="toast-text">${this.toast.text}</span>
            <button @click=${()=>this.toast=null}>${s("close")}</button>
          </div>`:m}
      <dialog class="confirm" @cancel=${()=>this.answer(!1)}>
        ${this.asking?o`<p>${this.asking.text}</p>
              <div class="actions">
                <button class="secondary" data-confirm="no" @click=${()=>this.answer(!1)}>${s("cancel")}</button>
                <button
                  class=${this.asking.danger?"danger filled":"primary"}
                  data-confirm="yes"
                  @click=${()=>this.answer(!0)}
                >
                  ${this.asking.action}
                </button>
              </div>`:m}
      </dialog>
    `}};P.styles=ft,p([g({attribute:!1})],P.prototype,"hass",2),p([g({type:Boolean})],P.prototype,"narrow",2),p([g({attribute:!1})],P.prototype,"route",2),p([g({attribute:!1})],P.prototype,"panel",2),p([b()],P.prototype,"lab",2),p([b()],P.prototype,"admin",2),p([b()],P.prototype,"toast",2),p([b()],P.prototype,"asking",2),p([b()],P.prototype,"path",2);customElements.get("fluxilab-panel")||customElements.define("fluxilab-panel",P);export{P as FluxiLabPanel};
