import streamlit as st
st.title('lr_sweep')
